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
// whenever its SDK wants credentials, so it never holds expired ones. The
// server keeps one in-memory copy while it is fresh and otherwise asks its
// Source (the broker, which has the real cache, refresh window and lock).
// Concurrent requests share one refresh, and a refresh outlives the request
// that started it: SDKs give up after a few seconds and retry, and a login
// can take longer than that.
//
// Compared with aws-vault's server it compares the token in constant time,
// refreshes before expiry rather than at it, answers only loopback clients
// and only GET, and never puts a secret in an error.
package ecsserver
