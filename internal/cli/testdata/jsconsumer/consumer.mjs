// Real JavaScript consumers of saml2sts (AWS SDK for JavaScript v3 and the
// OpenSearch client's SigV4 signer), run by jsconsumer_e2e_test.go. Each
// argument is one step, run in order in this one process (node and the
// SDKs take about half a CPU-second to start):
//   ini:PROFILE          fromIni (credential_process) -> sts:GetCallerIdentity
//   container            fromContainerMetadata (exec --ecs-server) -> sts:GetCallerIdentity
//   search:PROFILE:URL   fromIni -> AwsSigv4Signer -> POST /INDEX/_search
// Prints one JSON line per step; the STS endpoint comes from AWS_ENDPOINT_URL_STS.
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { fromIni, fromContainerMetadata } from "@aws-sdk/credential-providers";
import { Client } from "@opensearch-project/opensearch";
import { AwsSigv4Signer } from "@opensearch-project/opensearch/aws-v3";

const region = "eu-west-1";

async function whoami(credentials) {
  const sts = new STSClient({ region, endpoint: process.env.AWS_ENDPOINT_URL_STS, credentials });
  const id = await sts.send(new GetCallerIdentityCommand({}));
  return { account: id.Account, arn: id.Arn };
}

async function step(arg) {
  const [mode, profile, ...rest] = arg.split(":");
  switch (mode) {
    case "ini":
      return whoami(fromIni({ profile }));
    case "container":
      return whoami(fromContainerMetadata({ timeout: 5000, maxRetries: 1 }));
    case "search": {
      const client = new Client({
        ...AwsSigv4Signer({ region, service: "es", getCredentials: fromIni({ profile }) }),
        node: rest.join(":"),
      });
      const r = await client.search({ index: "pets", body: { query: { match: { kind: "cat" } } } });
      return { status: r.statusCode, hits: r.body.hits.hits.map((h) => h._source.name).sort() };
    }
    default:
      throw new Error(`unknown step ${arg}`);
  }
}

async function main() {
  for (const arg of process.argv.slice(2)) {
    console.log(JSON.stringify({ step: arg.split(":")[0], ...(await step(arg)) }));
  }
}

main().catch((e) => {
  console.error(`${e.name}: ${e.message}`);
  process.exit(1);
});
