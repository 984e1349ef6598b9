package truststore

// Certificate policy processing, RFC 5280 §6.1 as updated by RFC 9618 (the policy graph instead of the policy
// tree). Adapted from Go's crypto/x509 (verify.go, policiesValid and the policy graph), which is:
//
//	Copyright 2011 The Go Authors. All rights reserved.
//	Use of this source code is governed by a BSD-style license that can be found in Go's LICENSE file.
//
// Changes: OIDs are keyed by their DER through oidKey/oidFromKey (crypto/x509's OID.der is unexported), the
// chain is pkikit's, and the initial inputs come from VerifyOptions.

import (
	"bytes"
	"crypto/x509"
	"errors"
	"iter"
	"maps"

	"github.com/pkikit/pkikit/x509ext"
)

func oidKey(o x509.OID) string {
	b, _ := o.MarshalBinary()
	return string(b)
}

func oidFromKey(s string) x509.OID {
	var o x509.OID
	_ = o.UnmarshalBinary([]byte(s))
	return o
}

var anyPolicyOID = func() x509.OID {
	o, err := x509.OIDFromInts([]uint64{2, 5, 29, 32, 0})
	if err != nil {
		panic(err)
	}
	return o
}()

var errPolicy = errors.New("no valid certificate policy for the path")

// checkPolicies runs the policy checks; it returns nil when the path is acceptable.
func checkPolicies(chain []*x509ext.Certificate, opts VerifyOptions) error {
	if policiesTriviallyValid(chain, opts) {
		return nil
	}
	if !policiesValid(chain, opts) {
		return errPolicy
	}
	return nil
}

// policiesTriviallyValid is the fast path of policy processing: it reports true only when policiesValid is
// certain to return true without building the policy graph. policiesValid fails in exactly three places: an
// explicit_policy counter at 0 with a NULL graph (§6.1.3 (f)), a policy mapping to or from anyPolicy (§6.1.4 (a)),
// and an explicit_policy of 0 with an empty user-constrained set at the end (§6.1.5 (g)). explicit_policy starts at
// n+1, is decremented at most n times (n−1 non-leaf certificates, then §6.1.5 (a)) and only goes lower through
// a policyConstraints requireExplicitPolicy (§6.1.4 (i), §6.1.5 (b)) or the RequireExplicitPolicy input. So when
// the caller did not ask for an explicit policy and no certificate below the anchor has requireExplicitPolicy or
// policyMappings, no failure is reachable, whatever certificatePolicies, InitialPolicies or inhibitAnyPolicy say
// (without an explicit policy requirement the valid policy set does not decide acceptance, RFC 5280 §6.1.6).
// TestPolicyFastPathAgreesWithGraph checks this against policiesValid on the PKITS policy vectors.
func policiesTriviallyValid(chain []*x509ext.Certificate, opts VerifyOptions) bool {
	if opts.RequireExplicitPolicy {
		return false
	}
	for _, c := range chain[:len(chain)-1] {
		if c.RequireExplicitPolicy > 0 || c.RequireExplicitPolicyZero || len(c.PolicyMappings) > 0 {
			return false
		}
	}
	return true
}

type policyGraphNode struct {
	validPolicy       x509.OID
	expectedPolicySet []x509.OID
	// we do not implement qualifiers, so we don't track qualifier_set

	parents  map[*policyGraphNode]bool
	children map[*policyGraphNode]bool
}

func newPolicyGraphNode(valid x509.OID, parents []*policyGraphNode) *policyGraphNode {
	n := &policyGraphNode{
		validPolicy:       valid,
		expectedPolicySet: []x509.OID{valid},
		children:          map[*policyGraphNode]bool{},
		parents:           map[*policyGraphNode]bool{},
	}
	for _, p := range parents {
		p.children[n] = true
		n.parents[p] = true
	}
	return n
}

type policyGraph struct {
	strata []map[string]*policyGraphNode
	// map of x509.OID -> nodes at strata[depth-1] with x509.OID in their expectedPolicySet
	parentIndex map[string][]*policyGraphNode
	depth       int
}

func newPolicyGraph() *policyGraph {
	root := policyGraphNode{
		validPolicy:       anyPolicyOID,
		expectedPolicySet: []x509.OID{anyPolicyOID},
		children:          map[*policyGraphNode]bool{},
		parents:           map[*policyGraphNode]bool{},
	}
	return &policyGraph{
		depth:  0,
		strata: []map[string]*policyGraphNode{{oidKey(anyPolicyOID): &root}},
	}
}

func (pg *policyGraph) insert(n *policyGraphNode) {
	pg.strata[pg.depth][oidKey(n.validPolicy)] = n
}

func (pg *policyGraph) parentsWithExpected(expected x509.OID) []*policyGraphNode {
	if pg.depth == 0 {
		return nil
	}
	return pg.parentIndex[oidKey(expected)]
}

func (pg *policyGraph) parentWithAnyPolicy() *policyGraphNode {
	if pg.depth == 0 {
		return nil
	}
	return pg.strata[pg.depth-1][oidKey(anyPolicyOID)]
}

func (pg *policyGraph) parents() iter.Seq[*policyGraphNode] {
	if pg.depth == 0 {
		return nil
	}
	return maps.Values(pg.strata[pg.depth-1])
}

func (pg *policyGraph) leaves() map[string]*policyGraphNode {
	return pg.strata[pg.depth]
}

func (pg *policyGraph) leafWithPolicy(policy x509.OID) *policyGraphNode {
	return pg.strata[pg.depth][oidKey(policy)]
}

func (pg *policyGraph) deleteLeaf(policy x509.OID) {
	n := pg.strata[pg.depth][oidKey(policy)]
	if n == nil {
		return
	}
	for p := range n.parents {
		delete(p.children, n)
	}
	for c := range n.children {
		delete(c.parents, n)
	}
	delete(pg.strata[pg.depth], oidKey(policy))
}

func (pg *policyGraph) validPolicyNodes() []*policyGraphNode {
	var validNodes []*policyGraphNode
	for i := pg.depth; i >= 0; i-- {
		for _, n := range pg.strata[i] {
			if n.validPolicy.Equal(anyPolicyOID) {
				continue
			}

			if len(n.parents) == 1 {
				for p := range n.parents {
					if p.validPolicy.Equal(anyPolicyOID) {
						validNodes = append(validNodes, n)
					}
				}
			}
		}
	}
	return validNodes
}

func (pg *policyGraph) prune() {
	for i := pg.depth - 1; i > 0; i-- {
		for _, n := range pg.strata[i] {
			if len(n.children) == 0 {
				for p := range n.parents {
					delete(p.children, n)
				}
				delete(pg.strata[i], oidKey(n.validPolicy))
			}
		}
	}
}

func (pg *policyGraph) incrDepth() {
	pg.parentIndex = map[string][]*policyGraphNode{}
	for _, n := range pg.strata[pg.depth] {
		for _, e := range n.expectedPolicySet {
			pg.parentIndex[oidKey(e)] = append(pg.parentIndex[oidKey(e)], n)
		}
	}

	pg.depth++
	pg.strata = append(pg.strata, map[string]*policyGraphNode{})
}

func policiesValid(chain []*x509ext.Certificate, opts VerifyOptions) bool {
	// The following code implements the policy verification algorithm as
	// specified in RFC 5280 and updated by RFC 9618. In particular the
	// following sections are replaced by RFC 9618:
	//	* 6.1.2 (a)
	//	* 6.1.3 (d)
	//	* 6.1.3 (e)
	//	* 6.1.3 (f)
	//	* 6.1.4 (b)
	//	* 6.1.5 (g)

	if len(chain) == 1 {
		return true
	}

	// n is the length of the chain minus the trust anchor
	n := len(chain) - 1

	pg := newPolicyGraph()
	var inhibitAnyPolicy, explicitPolicy, policyMapping int
	if !opts.InhibitAnyPolicy {
		inhibitAnyPolicy = n + 1
	}
	if !opts.RequireExplicitPolicy {
		explicitPolicy = n + 1
	}
	if !opts.InhibitPolicyMapping {
		policyMapping = n + 1
	}

	initialUserPolicySet := map[string]bool{}
	for _, p := range opts.InitialPolicies {
		initialUserPolicySet[oidKey(p)] = true
	}
	// If the user does not pass any policies, we consider
	// that equivalent to passing anyPolicyOID.
	if len(initialUserPolicySet) == 0 {
		initialUserPolicySet[oidKey(anyPolicyOID)] = true
	}

	for i := n - 1; i >= 0; i-- {
		cert := chain[i]

		isSelfSigned := bytes.Equal(cert.RawIssuer, cert.RawSubject)

		// 6.1.3 (e) -- as updated by RFC 9618
		if len(cert.Policies) == 0 {
			pg = nil
		}

		// 6.1.3 (f) -- as updated by RFC 9618
		if explicitPolicy == 0 && pg == nil {
			return false
		}

		if pg != nil {
			pg.incrDepth()

			policies := map[string]bool{}

			// 6.1.3 (d) (1) -- as updated by RFC 9618
			for _, policy := range cert.Policies {
				policies[oidKey(policy)] = true

				if policy.Equal(anyPolicyOID) {
					continue
				}

				// 6.1.3 (d) (1) (i) -- as updated by RFC 9618
				parents := pg.parentsWithExpected(policy)
				if len(parents) == 0 {
					// 6.1.3 (d) (1) (ii) -- as updated by RFC 9618
					if anyParent := pg.parentWithAnyPolicy(); anyParent != nil {
						parents = []*policyGraphNode{anyParent}
					}
				}
				if len(parents) > 0 {
					pg.insert(newPolicyGraphNode(policy, parents))
				}
			}

			// 6.1.3 (d) (2) -- as updated by RFC 9618
			// NOTE: in the check "n-i < n" our i is different from the i in the specification.
			// In the specification chains go from the trust anchor to the leaf, whereas our
			// chains go from the leaf to the trust anchor, so our i's our inverted. Our
			// check here matches the check "i < n" in the specification.
			if policies[oidKey(anyPolicyOID)] && (inhibitAnyPolicy > 0 || (n-i < n && isSelfSigned)) {
				missing := map[string][]*policyGraphNode{}
				leaves := pg.leaves()
				for p := range pg.parents() {
					for _, expected := range p.expectedPolicySet {
						if leaves[oidKey(expected)] == nil {
							missing[oidKey(expected)] = append(missing[oidKey(expected)], p)
						}
					}
				}

				for oidStr, parents := range missing {
					pg.insert(newPolicyGraphNode(oidFromKey(oidStr), parents))
				}
			}

			// 6.1.3 (d) (3) -- as updated by RFC 9618
			pg.prune()

			if i != 0 {
				// 6.1.4 (b) -- as updated by RFC 9618
				if len(cert.PolicyMappings) > 0 {
					// collect map of issuer -> []subject
					mappings := map[string][]x509.OID{}

					for _, mapping := range cert.PolicyMappings {
						if policyMapping > 0 {
							if mapping.IssuerDomainPolicy.Equal(anyPolicyOID) || mapping.SubjectDomainPolicy.Equal(anyPolicyOID) {
								// Invalid mapping
								return false
							}
							mappings[oidKey(mapping.IssuerDomainPolicy)] = append(mappings[oidKey(mapping.IssuerDomainPolicy)], mapping.SubjectDomainPolicy)
						} else {
							// 6.1.4 (b) (3) (i) -- as updated by RFC 9618
							pg.deleteLeaf(mapping.IssuerDomainPolicy)
						}
					}

					// 6.1.4 (b) (3) (ii) -- as updated by RFC 9618
					pg.prune()

					for issuerStr, subjectPolicies := range mappings {
						// 6.1.4 (b) (1) -- as updated by RFC 9618
						if matching := pg.leafWithPolicy(oidFromKey(issuerStr)); matching != nil {
							matching.expectedPolicySet = subjectPolicies
						} else if matching := pg.leafWithPolicy(anyPolicyOID); matching != nil {
							// 6.1.4 (b) (2) -- as updated by RFC 9618
							n := newPolicyGraphNode(oidFromKey(issuerStr), []*policyGraphNode{matching})
							n.expectedPolicySet = subjectPolicies
							pg.insert(n)
						}
					}
				}
			}
		}

		if i != 0 {
			// 6.1.4 (h)
			if !isSelfSigned {
				if explicitPolicy > 0 {
					explicitPolicy--
				}
				if policyMapping > 0 {
					policyMapping--
				}
				if inhibitAnyPolicy > 0 {
					inhibitAnyPolicy--
				}
			}

			// 6.1.4 (i)
			if (cert.RequireExplicitPolicy > 0 || cert.RequireExplicitPolicyZero) && cert.RequireExplicitPolicy < explicitPolicy {
				explicitPolicy = cert.RequireExplicitPolicy
			}
			if (cert.InhibitPolicyMapping > 0 || cert.InhibitPolicyMappingZero) && cert.InhibitPolicyMapping < policyMapping {
				policyMapping = cert.InhibitPolicyMapping
			}
			// 6.1.4 (j)
			if (cert.InhibitAnyPolicy > 0 || cert.InhibitAnyPolicyZero) && cert.InhibitAnyPolicy < inhibitAnyPolicy {
				inhibitAnyPolicy = cert.InhibitAnyPolicy
			}
		}
	}

	// 6.1.5 (a)
	if explicitPolicy > 0 {
		explicitPolicy--
	}

	// 6.1.5 (b)
	if chain[0].RequireExplicitPolicyZero {
		explicitPolicy = 0
	}

	// 6.1.5 (g) (1) -- as updated by RFC 9618
	var validPolicyNodeSet []*policyGraphNode
	// 6.1.5 (g) (2) -- as updated by RFC 9618
	if pg != nil {
		validPolicyNodeSet = pg.validPolicyNodes()
		// 6.1.5 (g) (3) -- as updated by RFC 9618
		if currentAny := pg.leafWithPolicy(anyPolicyOID); currentAny != nil {
			validPolicyNodeSet = append(validPolicyNodeSet, currentAny)
		}
	}

	// 6.1.5 (g) (4) -- as updated by RFC 9618
	authorityConstrainedPolicySet := map[string]bool{}
	for _, n := range validPolicyNodeSet {
		authorityConstrainedPolicySet[oidKey(n.validPolicy)] = true
	}
	// 6.1.5 (g) (5) -- as updated by RFC 9618
	userConstrainedPolicySet := maps.Clone(authorityConstrainedPolicySet)
	// 6.1.5 (g) (6) -- as updated by RFC 9618
	if len(initialUserPolicySet) != 1 || !initialUserPolicySet[oidKey(anyPolicyOID)] {
		// 6.1.5 (g) (6) (i) -- as updated by RFC 9618
		for p := range userConstrainedPolicySet {
			if !initialUserPolicySet[p] {
				delete(userConstrainedPolicySet, p)
			}
		}
		// 6.1.5 (g) (6) (ii) -- as updated by RFC 9618
		if authorityConstrainedPolicySet[oidKey(anyPolicyOID)] {
			for policy := range initialUserPolicySet {
				userConstrainedPolicySet[policy] = true
			}
		}
	}

	if explicitPolicy == 0 && len(userConstrainedPolicySet) == 0 {
		return false
	}

	return true
}
