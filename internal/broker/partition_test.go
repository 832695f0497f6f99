package broker

import "testing"

func TestPartition(t *testing.T) {
	for _, tc := range []struct{ role, region, want string }{
		{"arn:aws:iam::123456789012:role/R", "us-gov-west-1", "aws"},
		{"arn:aws-us-gov:iam::123456789012:role/R", "", "aws-us-gov"},
		{"arn:aws-cn:iam::123456789012:role/R", "eu-west-1", "aws-cn"},
		{"", "us-gov-east-1", "aws-us-gov"},
		{"", "cn-northwest-1", "aws-cn"},
		{"", "eu-west-1", "aws"},
		{"", "", "aws"},
	} {
		if got := Partition(tc.role, tc.region); got != tc.want {
			t.Errorf("Partition(%q, %q) = %q, want %q", tc.role, tc.region, got, tc.want)
		}
	}
}
