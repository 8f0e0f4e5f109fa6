package sqsbackend

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// AWS describes a real SQS queue, given by its URL
// (https://sqs.<region>.amazonaws.com/<account>/<name>), with no endpoint
// override. getenv (os.Getenv when nil) supplies:
//
//   - the region: AWS_REGION, else AWS_DEFAULT_REGION, else the queue URL's
//     host; an error when the environment names another region than the URL;
//   - credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and
//     AWS_SESSION_TOKEN for temporary ones). Without them Credentials is nil
//     and the default credential chain applies (see [Backend.Credentials]);
//     one without the other is an error.
//
// AWS starts nothing; Close is a no-op.
func AWS(queueURL string, getenv func(string) string) (*Backend, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	u, err := url.Parse(queueURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("sqsbackend: AWS queue URL %q: want https://sqs.<region>.amazonaws.com/<account>/<queue>", queueURL)
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(segs) != 2 || segs[0] == "" || segs[1] == "" {
		return nil, fmt.Errorf("sqsbackend: AWS queue URL %q: path must be /<account>/<queue>", queueURL)
	}
	urlRegion := regionFromHost(u.Hostname())
	region := getenv(EnvRegion)
	if region == "" {
		region = getenv(EnvDefaultRegion)
	}
	switch {
	case region == "" && urlRegion == "":
		return nil, fmt.Errorf("sqsbackend: AWS queue URL %q: no region in the URL, set %s", queueURL, EnvRegion)
	case region == "":
		region = urlRegion
	case urlRegion != "" && urlRegion != region:
		return nil, fmt.Errorf("sqsbackend: AWS region %q from the environment, but the queue URL %q is in %q", region, queueURL, urlRegion)
	}
	creds, err := envCredentials(getenv)
	if err != nil {
		return nil, err
	}
	return &Backend{Kind: KindAWS, Region: region, Credentials: creds, queueURL: queueURL}, nil
}

// regionFromHost reads the region from sqs.<region>.amazonaws.com[.cn] or
// the legacy <region>.queue.amazonaws.com; "" otherwise.
func regionFromHost(host string) string {
	parts := strings.Split(host, ".")
	switch {
	case len(parts) >= 4 && parts[0] == "sqs" && parts[2] == "amazonaws":
		return parts[1]
	case len(parts) >= 4 && parts[1] == "queue" && parts[2] == "amazonaws":
		return parts[0]
	}
	return ""
}

func envCredentials(getenv func(string) string) (*Credentials, error) {
	c := Credentials{
		AccessKeyID:     getenv(EnvAccessKeyID),
		SecretAccessKey: getenv(EnvSecretAccessKey),
		SessionToken:    getenv(EnvSessionToken),
	}
	switch {
	case c.AccessKeyID == "" && c.SecretAccessKey == "":
		if c.SessionToken != "" {
			return nil, errors.New("sqsbackend: " + EnvSessionToken + " is set without " + EnvAccessKeyID + " and " + EnvSecretAccessKey)
		}
		return nil, nil // the default credential chain
	case c.AccessKeyID == "" || c.SecretAccessKey == "":
		return nil, errors.New("sqsbackend: set both " + EnvAccessKeyID + " and " + EnvSecretAccessKey + ", or neither to use the default credential chain")
	}
	return &c, nil
}
