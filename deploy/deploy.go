// Package deploy holds what drainpipe writes out for a deployment: the AWS
// Lambda CloudFormation template (lambda/template.yaml, the one source of it),
// which `drainpipe lambda package` writes next to the zip it builds.
package deploy

import (
	_ "embed"
	"fmt"
	"strings"
)

// LambdaZip is the file name of the function's code next to the template; the
// template's Code names it, for `sam deploy` or `aws cloudformation package`.
const LambdaZip = "drainpipe-lambda.zip"

//go:embed lambda/template.yaml
var lambdaTemplate string

// archMarker is the template's line that holds the default architecture.
const archMarker = "Default: arm64 # set by drainpipe lambda package --arch"

// LambdaTemplate returns the template with arch ("arm64" or "x86_64") as its
// Architecture parameter's default, so that a deployment without parameters
// matches the zip.
func LambdaTemplate(arch string) (string, error) {
	if arch != "arm64" && arch != "x86_64" {
		return "", fmt.Errorf("architecture %q: want arm64 or x86_64", arch)
	}
	if strings.Count(lambdaTemplate, archMarker) != 1 {
		return "", fmt.Errorf("template: the Architecture default line %q is not there once", archMarker)
	}
	return strings.Replace(lambdaTemplate, archMarker, "Default: "+arch+" # set by drainpipe lambda package --arch", 1), nil
}
