// Package sts turns a SAMLResponse into AWS credentials: it parses the
// assertion (roles, session name and duration, destination), calls STS
// AssumeRoleWithSAML through aws-sdk-go-v2, checks who the credentials belong
// to, and maps STS failures to errors that say what to change. ConsoleURL
// turns the credentials into an AWS console sign-in link through the AWS
// sign-in federation endpoint.
package sts
