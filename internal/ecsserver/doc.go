// Package ecsserver serves temporary credentials over the AWS container
// credentials protocol (the one ECS tasks use), on loopback, for the
// programs started by "saml2sts exec --ecs-server".
//
// A child that has AWS_CONTAINER_CREDENTIALS_FULL_URI and
// AWS_CONTAINER_AUTHORIZATION_TOKEN set asks
//
//	GET <uri>
//	Authorization: <token>
//
// and gets
//
//	{"AccessKeyId":"ASIA...","SecretAccessKey":"...","Token":"...","Expiration":"2026-01-02T15:04:05Z","AccountId":"123456789012"}
//
// whenever its SDK wants credentials, so it never holds expired ones. Every
// request is answered at once from the server's in-memory copy: SDKs wait
// little (the JavaScript SDK one second) and a login can take much longer.
// A goroutine renews the copy through the Source (the broker, which has the
// real cache, refresh window, lock and backoff) shortly before it enters the
// refresh window, so clients asking inside the window get new credentials
// at once. When renewals fail the old copy is served while it is usable;
// from one minute (cache.Margin) before its expiry requests get HTTP 500
// with a JSON Message naming the failure, and each failed backoff step is
// logged once.
//
// Compared with aws-vault's server it compares the token in constant time,
// refreshes before expiry rather than at it, answers only loopback clients
// and only GET, and never puts a secret in an error.
package ecsserver
