package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/drainpipe/drainpipe/deploy"
)

// node is a template node with CloudFormation's short tags (!Ref, !Sub, ...)
// kept: yaml.v3 gives them as the nodes' tags.
type node struct{ *yaml.Node }

func parse(t *testing.T, text string) node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatalf("template does not parse: %v", err)
	}
	return node{doc.Content[0]}
}

// get follows mapping keys; a missing one gives a nil node.
func (n node) get(keys ...string) node {
	cur := n.Node
	for _, k := range keys {
		if cur == nil || cur.Kind != yaml.MappingNode {
			return node{}
		}
		var next *yaml.Node
		for i := 0; i+1 < len(cur.Content); i += 2 {
			if cur.Content[i].Value == k {
				next = cur.Content[i+1]
			}
		}
		cur = next
	}
	return node{cur}
}

// val and tag are the node's value and tag, "" for a missing node.
func (n node) val() string {
	if n.Node == nil {
		return ""
	}
	return n.Value
}

func (n node) tag() string {
	if n.Node == nil {
		return ""
	}
	return n.Tag
}

func (n node) keys() []string {
	var out []string
	for i := 0; n.Node != nil && i+1 < len(n.Content); i += 2 {
		out = append(out, n.Content[i].Value)
	}
	return out
}

// walk calls f on every node under n.
func (n node) walk(f func(*yaml.Node)) {
	var rec func(*yaml.Node)
	rec = func(y *yaml.Node) {
		f(y)
		for _, c := range y.Content {
			rec(c)
		}
	}
	rec(n.Node)
}

// TestTemplateShape: the function, its URL, its permissions, its log group and
// the optional table are what the README promises.
func TestTemplateShape(t *testing.T) {
	text, err := deploy.LambdaTemplate("arm64")
	if err != nil {
		t.Fatal(err)
	}
	tpl := parse(t, text)
	res := tpl.get("Resources")
	for name, typ := range map[string]string{"Function": "AWS::Lambda::Function", "FunctionUrl": "AWS::Lambda::Url",
		"FunctionUrlPermission": "AWS::Lambda::Permission", "FunctionInvokePermission": "AWS::Lambda::Permission",
		"FunctionLogGroup": "AWS::Logs::LogGroup", "Role": "AWS::IAM::Role", "DedupTable": "AWS::DynamoDB::Table"} {
		if got := res.get(name, "Type").val(); got != typ {
			t.Errorf("%s is %q, want %s", name, got, typ)
		}
	}
	fn := res.get("Function", "Properties")
	for key, want := range map[string]string{"Runtime": "provided.al2023", "Handler": "bootstrap", "Code": deploy.LambdaZip} {
		if got := fn.get(key).val(); got != want {
			t.Errorf("Function %s = %q, want %q", key, got, want)
		}
	}
	if a := fn.get("Architectures"); a.Node == nil || len(a.Content) != 1 || a.Content[0].Tag != "!Ref" || a.Content[0].Value != "Architecture" {
		t.Error("Architectures is not the Architecture parameter")
	}
	if rc := fn.get("ReservedConcurrentExecutions"); rc.tag() != "!If" || !strings.Contains(flat(rc), "ReservedConcurrency") {
		t.Error("reserved concurrency is not the ReservedConcurrency parameter")
	}
	if lg := fn.get("LoggingConfig", "LogGroup"); lg.tag() != "!Ref" || lg.val() != "FunctionLogGroup" {
		t.Error("the function does not log to its own log group")
	}
	if r := res.get("FunctionLogGroup", "Properties", "RetentionInDays"); r.tag() != "!Ref" || r.val() != "FunctionLogRetentionDays" {
		t.Error("the function's log group has no retention")
	}
	if res.get("FunctionUrl", "Properties", "AuthType").val() != "NONE" || res.get("FunctionUrlPermission", "Properties", "FunctionUrlAuthType").val() != "NONE" {
		t.Error("the Function URL is not open (drain auth is drainpipe's own)")
	}
	if res.get("FunctionInvokePermission", "Properties", "InvokedViaFunctionUrl").val() != "true" {
		t.Error("no lambda:InvokeFunction permission limited to the Function URL")
	}
	if got := res.get("DedupTable", "Properties", "TimeToLiveSpecification", "AttributeName").val(); got != "expires" {
		t.Errorf("dedup table's TTL attribute %q, want expires (package dynamodb)", got)
	}
	for _, p := range []string{"Architecture", "Drains", "DrainsParameter", "ReservedConcurrency", "FunctionLogRetentionDays", "Dedup"} {
		if tpl.get("Parameters", p).Node == nil {
			t.Errorf("no parameter %s", p)
		}
	}
}

// TestTemplateLeastPrivilege: the role may do exactly what the function does,
// each action on the resources it needs, nothing with a wildcard action.
func TestTemplateLeastPrivilege(t *testing.T) {
	text, _ := deploy.LambdaTemplate("arm64")
	tpl := parse(t, text)
	pols := tpl.get("Resources", "Role", "Properties", "Policies")
	var actions []string
	pols.walk(func(y *yaml.Node) {
		if y.Kind != yaml.MappingNode {
			return
		}
		st := node{y}
		if st.get("Effect").val() == "" {
			return
		}
		if st.get("Effect").val() != "Allow" {
			t.Errorf("statement %s: effect %s", st.get("Sid").val(), st.get("Effect").val())
		}
		act := st.get("Action")
		acts := []string{act.val()}
		if act.Node != nil && act.Kind == yaml.SequenceNode {
			acts = nil
			for _, a := range act.Content {
				acts = append(acts, a.Value)
			}
		}
		for _, a := range acts {
			if strings.Contains(a, "*") {
				t.Errorf("wildcard action %s", a)
			}
		}
		actions = append(actions, acts...)
		r := st.get("Resource")
		if r.val() == "*" || r.tag() != "!Sub" && r.tag() != "!GetAtt" {
			t.Errorf("statement %s: resource %q is not scoped", st.get("Sid").val(), r.val())
		}
	})
	slices.Sort(actions)
	want := []string{"dynamodb:DeleteItem", "dynamodb:PutItem", "logs:CreateLogGroup", "logs:CreateLogStream", "logs:CreateLogStream",
		"logs:PutLogEvents", "logs:PutLogEvents", "logs:PutRetentionPolicy", "ssm:GetParameter"}
	if !slices.Equal(actions, want) {
		t.Errorf("actions %v, want %v", actions, want)
	}
	if s := flat(pols); !strings.Contains(s, "log-group:${LogGroupPrefix}*") || !strings.Contains(s, "parameter${DrainsParameter}") {
		t.Errorf("app logs or drains parameter not scoped: %s", s)
	}
}

// TestTemplateReferences: every !Ref, !GetAtt, ${...} and condition names
// something the template defines (or a pseudo parameter).
func TestTemplateReferences(t *testing.T) {
	text, _ := deploy.LambdaTemplate("arm64")
	tpl := parse(t, text)
	defined := map[string]bool{}
	for _, k := range append(tpl.get("Parameters").keys(), tpl.get("Resources").keys()...) {
		defined[k] = true
	}
	conds := map[string]bool{}
	for _, k := range tpl.get("Conditions").keys() {
		conds[k] = true
	}
	sub := regexp.MustCompile(`\$\{([^}!]+)\}`)
	check := func(name string) {
		name, _, _ = strings.Cut(name, ".")
		if !defined[name] && !strings.HasPrefix(name, "AWS::") {
			t.Errorf("reference to %q, which the template does not define", name)
		}
	}
	tpl.walk(func(y *yaml.Node) {
		switch y.Tag {
		case "!Ref", "!GetAtt":
			check(y.Value)
		case "!Sub":
			for _, m := range sub.FindAllStringSubmatch(y.Value, -1) {
				check(m[1])
			}
		case "!If":
			if len(y.Content) != 3 || !conds[y.Content[0].Value] {
				t.Errorf("!If on an undefined condition %q", y.Content[0].Value)
			}
		}
	})
	for _, r := range tpl.get("Resources").keys() {
		if c := tpl.get("Resources", r, "Condition").val(); c != "" && !conds[c] {
			t.Errorf("%s: undefined condition %s", r, c)
		}
	}
}

// TestTemplateArchitecture: the package's architecture becomes the default;
// the file in the repository is the arm64 one.
func TestTemplateArchitecture(t *testing.T) {
	arm, _ := deploy.LambdaTemplate("arm64")
	x86, err := deploy.LambdaTemplate("x86_64")
	if err != nil {
		t.Fatal(err)
	}
	if got := parse(t, x86).get("Parameters", "Architecture", "Default").val(); got != "x86_64" {
		t.Errorf("x86_64 template's default %q", got)
	}
	if strings.Replace(x86, "Default: x86_64 #", "Default: arm64 #", 1) != arm {
		t.Error("the templates differ beyond the default architecture")
	}
	file, err := os.ReadFile("lambda/template.yaml")
	if err != nil || string(file) != arm {
		t.Errorf("lambda/template.yaml is not the arm64 template: %v", err)
	}
	if _, err := deploy.LambdaTemplate("mips"); err == nil {
		t.Error("mips accepted")
	}
}

// TestTemplateLint runs AWS's cfn-lint, which checks every resource's
// properties against CloudFormation's own schemas: on the template as written
// (its local Code path only works through `sam deploy` or `aws cloudformation
// package`, W3002) and as packaged, with the zip's S3 location.
func TestTemplateLint(t *testing.T) {
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Fatal("cfn-lint is needed to check the CloudFormation template (pip install cfn-lint; scripts/test checks for it)")
	}
	text, _ := deploy.LambdaTemplate("x86_64")
	dir := t.TempDir()
	written, packaged := filepath.Join(dir, "template.yaml"), filepath.Join(dir, "packaged.yaml")
	os.WriteFile(written, []byte(text), 0o644)
	os.WriteFile(packaged, []byte(strings.Replace(text, "Code: "+deploy.LambdaZip,
		"Code: { S3Bucket: my-artifacts, S3Key: 6a2f4b0e1c3d5f7a9b8c }", 1)), 0o644)
	for _, args := range [][]string{{"--ignore-checks", "W3002", "--", written}, {"--", packaged}} {
		if out, err := exec.Command(lint, args...).CombinedOutput(); err != nil {
			t.Errorf("cfn-lint %v: %v\n%s", args, err, out)
		}
	}
}

// flat is a node and what is under it, as text.
func flat(n node) string {
	var b strings.Builder
	n.walk(func(y *yaml.Node) { b.WriteString(y.Tag + " " + y.Value + " ") })
	return b.String()
}
