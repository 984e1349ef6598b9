package truststore

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pkikit/pkikit/x509ext"
)

// pkitsKnownFailures lists the NIST PKITS cases this verifier does not pass, each with the reason. The test
// fails if a case listed here starts passing (update the list) or an unlisted case fails.
var pkitsKnownFailures = map[string]string{
	"4.1.4 Valid DSA Signatures Test4":                        "DSA keys are outside pkikit's algorithm table (by design)",
	"4.1.5 Valid DSA Parameter Inheritance Test5":             "DSA keys are outside pkikit's algorithm table (by design)",
	"4.4.1 Missing CRL Test1":                                 "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.4.2 Invalid Revoked CA Test2":                          "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.4.3 Invalid Revoked EE Test3":                          "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.4.4 Invalid Bad CRL Signature Test4":                   "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.4.5 Invalid Bad CRL Issuer Name Test5":                 "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.4.6 Invalid Wrong CRL Test6":                           "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.4.8 Invalid Unknown CRL Entry Extension Test8":         "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.4.9 Invalid Unknown CRL Extension Test9":               "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.4.10 Invalid Unknown CRL Extension Test10":             "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.4.11 Invalid Old CRL nextUpdate Test11":                "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.4.12 Invalid pre2000 CRL nextUpdate Test12":            "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.4.18 Invalid Long Serial Number Test18":                "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.4.20 Invalid Separate Certificate and CRL Keys Test20": "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.4.21 Invalid Separate Certificate and CRL Keys Test21": "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.5.2 Invalid Basic Self-Issued Old With New Test2":      "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.5.5 Invalid Basic Self-Issued New With Old Test5":      "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.5.7 Invalid Basic Self-Issued CRL Signing Key Test7":   "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.7.4 Invalid keyUsage Critical cRLSign False Test4":     "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.7.5 Invalid keyUsage Not Critical cRLSign False Test5": "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.14.2 Invalid distributionPoint Test2":                  "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.14.3 Invalid distributionPoint Test3":                  "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.14.4 Valid distributionPoint Test4":                    "crypto/x509 (used by x509ext.ParseCertificate) rejects this EE's cRLDistributionPoints (nameRelativeToCRLIssuer)",
	"4.14.5 Valid distributionPoint Test5":                    "crypto/x509 (used by x509ext.ParseCertificate) rejects this EE's cRLDistributionPoints (nameRelativeToCRLIssuer)",
	"4.14.8 Invalid distributionPoint Test8":                  "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.14.9 Invalid distributionPoint Test9":                  "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.14.11 Invalid onlyContainsUserCerts CRL Test11":        "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.14.12 Invalid onlyContainsCACerts CRL Test12":          "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.14.14 Invalid onlyContainsAttributeCerts Test14":       "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.14.15 Invalid onlySomeReasons Test15":                  "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.14.16 Invalid onlySomeReasons Test16":                  "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.14.17 Invalid onlySomeReasons Test17":                  "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.14.20 Invalid onlySomeReasons Test20":                  "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.14.21 Invalid onlySomeReasons Test21":                  "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.14.23 Invalid IDP with indirectCRL Test23":             "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.14.26 Invalid IDP with indirectCRL Test26":             "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.14.27 Invalid cRLIssuer Test27":                        "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.14.29 Valid cRLIssuer Test29":                          "crypto/x509 (used by x509ext.ParseCertificate) rejects this EE's cRLDistributionPoints (nameRelativeToCRLIssuer)",
	"4.14.31 Invalid cRLIssuer Test31":                        "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.14.32 Invalid cRLIssuer Test32":                        "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.14.34 Invalid cRLIssuer Test34":                        "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.14.35 Invalid cRLIssuer Test35":                        "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.15.1 Invalid deltaCRLIndicator No Base Test1":          "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.15.3 Invalid delta-CRL Test3":                          "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.15.4 Invalid delta-CRL Test4":                          "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.15.6 Invalid delta-CRL Test6":                          "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.15.9 Invalid delta-CRL Test9":                          "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
	"4.15.10 Invalid delta-CRL Test10":                        "needs the PKITS CRLs, which Go's copy of the suite does not ship (revocation is off)",
}

var pkitsPolicies = map[string][]uint64{
	"anyPolicy":          {2, 5, 29, 32, 0},
	"NIST-test-policy-1": {2, 16, 840, 1, 101, 3, 2, 1, 48, 1},
	"NIST-test-policy-2": {2, 16, 840, 1, 101, 3, 2, 1, 48, 2},
	"NIST-test-policy-3": {2, 16, 840, 1, 101, 3, 2, 1, 48, 3},
	"NIST-test-policy-6": {2, 16, 840, 1, 101, 3, 2, 1, 48, 6},
}

func goroot() string {
	if r := os.Getenv("GOROOT"); r != "" {
		return r
	}
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// TestNISTPKITS runs NIST's PKI path validation test suite (PKITS, as shipped with every Go installation in
// crypto/x509/testdata/nist-pkits: 249 vectors) through Verify: the first certificate of each path is the anchor,
// the last the leaf, the others intermediates; the initial policy inputs come from the vector. Go's copy does
// not include the suite's CRLs, so revocation is off and the cases that need CRLs are listed as known failures.
func TestNISTPKITS(t *testing.T) {
	dir := filepath.Join(goroot(), "src", "crypto", "x509", "testdata", "nist-pkits")
	data, err := os.ReadFile(filepath.Join(dir, "vectors.json"))
	if err != nil {
		t.Skipf("NIST PKITS vectors not found in this Go installation: %v", err)
	}
	var vectors []struct {
		Name                        string
		CertPath                    []string
		CRLPath                     []string
		InitialPolicySet            []string
		InitialPolicyMappingInhibit bool
		InitialExplicitPolicy       bool
		InitialAnyPolicyInhibit     bool
		ShouldValidate              bool
	}
	if err := json.Unmarshal(data, &vectors); err != nil {
		t.Fatal(err)
	}
	var passed int
	var unexpected, nowPassing, known []string
	for _, v := range vectors {
		ok, why := runPKITS(t, dir, v.CertPath, v.InitialPolicySet, v.InitialPolicyMappingInhibit, v.InitialExplicitPolicy, v.InitialAnyPolicyInhibit)
		good := ok == v.ShouldValidate
		reason, isKnown := pkitsKnownFailures[v.Name]
		switch {
		case good && isKnown:
			nowPassing = append(nowPassing, v.Name)
			passed++
		case good:
			passed++
		case isKnown:
			known = append(known, v.Name+": "+reason)
		default:
			unexpected = append(unexpected, v.Name+": expected valid="+boolStr(v.ShouldValidate)+", got "+why)
		}
	}
	t.Logf("NIST PKITS: %d/%d passed, %d known failures", passed, len(vectors), len(known))
	sort.Strings(known)
	for _, k := range known {
		t.Logf("known failure: %s", k)
	}
	for _, u := range unexpected {
		t.Errorf("unexpected: %s", u)
	}
	for _, n := range nowPassing {
		t.Errorf("now passes, remove from pkitsKnownFailures: %s", n)
	}
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func runPKITS(t *testing.T, dir string, path, policies []string, inhibitMapping, explicit, inhibitAny bool) (bool, string) {
	t.Helper()
	var certs []*x509ext.Certificate
	for _, name := range path {
		der, err := os.ReadFile(filepath.Join(dir, "certs", name))
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509ext.ParseCertificate(der)
		if err != nil {
			return false, "parse " + name + ": " + err.Error()
		}
		certs = append(certs, c)
	}
	store := NewStore(certs[0])
	opts := VerifyOptions{
		Time:                  time.Date(2012, 6, 1, 0, 0, 0, 0, time.UTC),
		Purpose:               PurposeAny,
		Intermediates:         certs[1 : len(certs)-1],
		Revocation:            RevocationOff,
		InhibitPolicyMapping:  inhibitMapping,
		RequireExplicitPolicy: explicit,
		InhibitAnyPolicy:      inhibitAny,
	}
	for _, p := range policies {
		oid, err := x509.OIDFromInts(pkitsPolicies[p])
		if err != nil {
			t.Fatal(err)
		}
		opts.InitialPolicies = append(opts.InitialPolicies, oid)
	}
	_, err := store.Verify(certs[len(certs)-1], opts)
	if err != nil {
		var ve *VerifyError
		if errors.As(err, &ve) && len(ve.Paths) > 0 {
			return false, strings.ReplaceAll(ve.Paths[0].Error(), "\n", " ")
		}
		return false, err.Error()
	}
	return true, "valid"
}

// TestPolicyFastPathAgreesWithGraph: whenever the policy fast path (policiesTriviallyValid) skips the policy
// graph, the full RFC 5280/9618 processing (policiesValid) must accept the path too. It runs every PKITS path
// (leaf first, anchor last) under every combination of the initial policy inputs, with the vector's initial
// policy set and with a policy no certificate asserts.
func TestPolicyFastPathAgreesWithGraph(t *testing.T) {
	dir := filepath.Join(goroot(), "src", "crypto", "x509", "testdata", "nist-pkits")
	data, err := os.ReadFile(filepath.Join(dir, "vectors.json"))
	if err != nil {
		t.Skipf("NIST PKITS vectors not found in this Go installation: %v", err)
	}
	var vectors []struct {
		CertPath         []string
		InitialPolicySet []string
	}
	if err := json.Unmarshal(data, &vectors); err != nil {
		t.Fatal(err)
	}
	unasserted, err := x509.OIDFromInts([]uint64{1, 2, 3, 4, 5, 6})
	if err != nil {
		t.Fatal(err)
	}
	var fast, slowOnly, graphRejects int
	for _, v := range vectors {
		var chain []*x509ext.Certificate
		for _, name := range v.CertPath {
			der, err := os.ReadFile(filepath.Join(dir, "certs", name))
			if err != nil {
				t.Fatal(err)
			}
			c, err := x509ext.ParseCertificate(der)
			if err != nil {
				chain = nil
				break
			}
			chain = append([]*x509ext.Certificate{c}, chain...)
		}
		if chain == nil {
			continue
		}
		var initial []x509.OID
		for _, p := range v.InitialPolicySet {
			oid, err := x509.OIDFromInts(pkitsPolicies[p])
			if err != nil {
				t.Fatal(err)
			}
			initial = append(initial, oid)
		}
		for _, pols := range [][]x509.OID{initial, {unasserted}} {
			for bits := range 8 {
				opts := VerifyOptions{InitialPolicies: pols, RequireExplicitPolicy: bits&1 != 0,
					InhibitPolicyMapping: bits&2 != 0, InhibitAnyPolicy: bits&4 != 0}
				full := policiesValid(chain, opts)
				if !full {
					graphRejects++
				}
				if !policiesTriviallyValid(chain, opts) {
					slowOnly++
					continue
				}
				fast++
				if !full {
					t.Errorf("%v (opts %+v): fast path accepts, policy graph rejects", v.CertPath, opts)
				}
			}
		}
	}
	t.Logf("fast path %d, policy graph only %d, graph rejections %d", fast, slowOnly, graphRejects)
	if fast == 0 || slowOnly == 0 || graphRejects == 0 {
		t.Errorf("the comparison did not exercise both paths and a rejection")
	}
}
