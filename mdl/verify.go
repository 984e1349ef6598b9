package mdl

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/subtle"
	"fmt"
	"hash"
	"strconv"
	"time"

	"github.com/pkikit/pkikit/truststore"
	"github.com/pkikit/pkikit/x509ext"
)

// VerifyOptions configures the reader's verification. The zero value is safe: it refuses to verify without a
// trust store and, for a DeviceResponse, without a session transcript.
type VerifyOptions struct {
	// TrustStore holds the IACA roots. The DS certificate must chain to one of them for the mDL document-signing
	// purpose (EKU 1.0.18013.5.1.2) at Time.
	TrustStore *truststore.Store
	// Chain is passed on to the trust store (revocation policy, CRLs, bounds); its Time, Purpose and
	// Intermediates are set by this package.
	Chain truststore.VerifyOptions
	// Time is the verification time (zero: now), for the MSO validity and the certificate chain.
	Time time.Time
	// ClockSkew widens the MSO validity window on both sides.
	ClockSkew time.Duration
	// DocType, when set, is the docType the reader expects.
	DocType string
	// SessionTranscript is the transcript of this session, as the reader built it (required for a DeviceResponse).
	SessionTranscript *SessionTranscript
	// ReaderKey is the reader's ephemeral private key (EReaderKey), needed to check a deviceMac.
	ReaderKey KeyAgreement
	// Lenient reports Annex B certificate findings and non-strict tdates instead of failing on them. Signature,
	// chain, validity, docType, digest and device authentication failures always fail.
	Lenient bool
	// Certificates tunes the Annex B checks (RequireState, AllowNonURICRLDistributionPoint).
	Certificates CertificateCheckOptions
	// MaxSize bounds the input (0: DefaultMaxSize).
	MaxSize int
}

// Check is one verification step and its outcome.
type Check struct {
	// Name is the step: "issuerAuth.x5chain", "ds.profile", "ds.chain", "issuerAuth.signature", "mso",
	// "mso.signed", "mso.validity", "docType", "element <ns>/<id>", "issuing_country", "deviceAuth", ...
	Name string
	// Outcome is "pass", "fail", "warn" or "skip".
	Outcome string
	// Detail says what was checked or why it failed.
	Detail string
	// Err is the typed error of a failed check (nil otherwise).
	Err error
}

// Outcomes of a Check.
const (
	OutcomePass = "pass"
	OutcomeFail = "fail"
	OutcomeWarn = "warn"
	OutcomeSkip = "skip"
)

func (c Check) String() string {
	s := c.Outcome + " " + c.Name
	if c.Detail != "" {
		s += ": " + c.Detail
	}
	return s
}

// DocumentResult is the verification report of one document.
type DocumentResult struct {
	DocType string
	// MSO is the parsed Mobile Security Object (nil if it could not be parsed).
	MSO *MobileSecurityObject
	// DocumentSigner and Chain (DS first, IACA last) are the certificates found and validated.
	DocumentSigner *x509ext.Certificate
	Chain          []*x509ext.Certificate
	// Profile is the Annex B report on the DS certificate.
	Profile *ProfileReport
	// Elements are the disclosed elements whose digests verified: namespace → identifier → value.
	Elements map[string]map[string]any
	// DeviceAuthentication is "signature", "mac" or "" (bare IssuerSigned).
	DeviceAuthentication string
	// Handover is the handover of the session transcript assumed for device authentication.
	Handover HandoverKind
	// Checks lists every step in order.
	Checks []Check
}

// OK reports whether no check failed.
func (d *DocumentResult) OK() bool {
	for _, c := range d.Checks {
		if c.Outcome == OutcomeFail {
			return false
		}
	}
	return true
}

func (d *DocumentResult) pass(name, detail string) {
	d.Checks = append(d.Checks, Check{Name: name, Outcome: OutcomePass, Detail: detail})
}

func (d *DocumentResult) warn(name, detail string) {
	d.Checks = append(d.Checks, Check{Name: name, Outcome: OutcomeWarn, Detail: detail})
}

func (d *DocumentResult) skip(name, detail string) {
	d.Checks = append(d.Checks, Check{Name: name, Outcome: OutcomeSkip, Detail: detail})
}

func (d *DocumentResult) fail(name string, err error) {
	d.Checks = append(d.Checks, Check{Name: name, Outcome: OutcomeFail, Detail: err.Error(), Err: err})
}

func (d *DocumentResult) errs() []error {
	var out []error
	for _, c := range d.Checks {
		if c.Err != nil {
			out = append(out, c.Err)
		}
	}
	return out
}

// Result is the verification report of a DeviceResponse.
type Result struct {
	Documents []*DocumentResult
	// Checks are response-level steps (decoding, status).
	Checks []Check
}

// OK reports whether every check of every document passed.
func (r *Result) OK() bool {
	for _, c := range r.Checks {
		if c.Outcome == OutcomeFail {
			return false
		}
	}
	for _, d := range r.Documents {
		if !d.OK() {
			return false
		}
	}
	return len(r.Documents) > 0
}

// VerifyDeviceResponse verifies a DeviceResponse as a reader: for each document the issuerAuth signature, the DS
// certificate (Annex B profile, chain to an IACA of opts.TrustStore for mDL document signing), the MSO validity at
// opts.Time, the docType, every disclosed element's digest, and device authentication (deviceSignature with the
// MSO's device key, or deviceMac with opts.ReaderKey) over opts.SessionTranscript. It returns the report; if any
// check fails, also a *VerifyError whose Unwrap gives every failed check's typed error.
func VerifyDeviceResponse(b []byte, opts VerifyOptions) (*Result, error) {
	res := &Result{}
	fail := func(name string, err error) (*Result, error) {
		res.Checks = append(res.Checks, Check{Name: name, Outcome: OutcomeFail, Detail: err.Error(), Err: err})
		return res, &VerifyError{Result: res, Errs: []error{err}}
	}
	resp, err := ParseDeviceResponse(b, ParseOptions{MaxSize: opts.MaxSize})
	if err != nil {
		return fail("decode", err)
	}
	res.Checks = append(res.Checks, Check{Name: "decode", Outcome: OutcomePass})
	if resp.Status != 0 || len(resp.Documents) == 0 {
		return fail("status", newErr("verify DeviceResponse", ErrResponseStatus, fmt.Sprintf("status %d, %d documents", resp.Status, len(resp.Documents)), nil))
	}
	if opts.SessionTranscript == nil {
		return fail("sessionTranscript", newErr("verify DeviceResponse", ErrMissingSessionTranscript, "VerifyOptions.SessionTranscript is required", nil))
	}
	var errs []error
	for _, doc := range resp.Documents {
		d := verifyDocument(doc.DocType, doc.IssuerSigned, doc.DeviceSigned, opts)
		res.Documents = append(res.Documents, d)
		errs = append(errs, d.errs()...)
	}
	if len(errs) > 0 {
		return res, &VerifyError{Result: res, Errs: errs}
	}
	return res, nil
}

// VerifyIssuerSigned verifies a bare IssuerSigned (as an issuer hands it to a wallet): everything
// VerifyDeviceResponse checks except device authentication. opts.DocType, when set, must match the MSO's.
func VerifyIssuerSigned(b []byte, opts VerifyOptions) (*DocumentResult, error) {
	s, err := ParseIssuerSigned(b, ParseOptions{MaxSize: opts.MaxSize})
	if err != nil {
		d := &DocumentResult{}
		d.fail("decode", err)
		return d, &VerifyError{Result: &Result{Documents: []*DocumentResult{d}}, Errs: []error{err}}
	}
	d := verifyDocument("", s, nil, opts)
	if errs := d.errs(); len(errs) > 0 {
		return d, &VerifyError{Result: &Result{Documents: []*DocumentResult{d}}, Errs: errs}
	}
	return d, nil
}

func verifyDocument(docType string, is *IssuerSigned, dev *DeviceSigned, opts VerifyOptions) *DocumentResult {
	n := 0
	for _, items := range is.NameSpaces {
		n += len(items)
	}
	d := &DocumentResult{DocType: docType, Elements: make(map[string]map[string]any, len(is.NameSpaces)), Checks: make([]Check, 0, 16+n)}
	now := opts.Time
	if now.IsZero() {
		now = time.Now()
	}
	auth := is.IssuerAuth

	// 1. The Document Signer certificate.
	var ds *x509ext.Certificate
	var inters []*x509ext.Certificate
	parse := x509ext.ParseCertificate
	if opts.TrustStore != nil {
		parse = opts.TrustStore.ParseCertificate
	}
	if len(auth.X5Chain) == 0 {
		d.fail("issuerAuth.x5chain", newErr("verify issuerAuth", ErrNoDocumentSigner, "no x5chain (label 33)", nil))
	} else {
		var err error
		if ds, err = parse(auth.X5Chain[0]); err != nil {
			d.fail("issuerAuth.x5chain", newErr("verify issuerAuth", ErrNoDocumentSigner, "DS certificate does not parse", err))
		} else {
			for _, raw := range auth.X5Chain[1:] {
				c, err := parse(raw)
				if err != nil {
					d.fail("issuerAuth.x5chain", newErr("verify issuerAuth", ErrMalformed, "x5chain certificate does not parse", err))
					continue
				}
				inters = append(inters, c)
			}
			d.DocumentSigner = ds
			detail := fmt.Sprintf("DS %q", ds.Subject.CommonName)
			if auth.X5ChainProtected {
				d.warn("issuerAuth.x5chain", detail+"; x5chain in the protected header (18013-5: unprotected)")
			} else {
				d.pass("issuerAuth.x5chain", detail)
			}
		}
	}
	if len(auth.ExtraProtected) > 0 {
		d.warn("issuerAuth.protected", fmt.Sprintf("protected header has labels besides alg: %v", auth.ExtraProtected))
	}

	// 2. Annex B profile and chain to an IACA.
	if ds != nil {
		co := opts.Certificates
		co.Lenient = co.Lenient || opts.Lenient
		rep, err := CheckDocumentSignerCertificate(ds, nil, co)
		d.Profile = rep
		switch {
		case err != nil:
			d.fail("ds.profile", err)
		case !rep.OK():
			d.warn("ds.profile", fmt.Sprintf("lenient: %v", rep.Findings))
		default:
			d.pass("ds.profile", "ISO 18013-5 Annex B document signer profile")
		}
		switch {
		case opts.TrustStore == nil:
			d.fail("ds.chain", newErr("verify document signer", ErrNoTrustStore, "VerifyOptions.TrustStore is nil", nil))
		default:
			vo := opts.Chain
			vo.Time, vo.Purpose, vo.Intermediates = now, truststore.PurposeMDLDocumentSigning, inters
			chains, err := opts.TrustStore.Verify(ds, vo)
			if err != nil {
				d.fail("ds.chain", newErr("verify document signer", ErrUntrustedDocumentSigner, "", err))
				break
			}
			d.Chain = chains[0]
			iaca := d.Chain[len(d.Chain)-1]
			if d.Profile.OK() {
				// The rules relating the DS to its IACA (issuer, AKI, country, state, validity nesting).
				rep, err := CheckDocumentSignerCertificate(ds, iaca, co)
				d.Profile = rep
				if err != nil {
					d.fail("ds.iaca", err)
					break
				}
			}
			d.pass("ds.chain", fmt.Sprintf("chains to IACA %q for mDL document signing", iaca.Subject.CommonName))
		}
	} else {
		d.skip("ds.chain", "no DS certificate")
	}

	// 3. issuerAuth signature.
	if ds != nil {
		if err := auth.verify(ds.PublicKey, nil); err != nil {
			d.fail("issuerAuth.signature", newErr("verify issuerAuth", ErrIssuerSignature, auth.Algorithm.String(), err))
		} else {
			d.pass("issuerAuth.signature", auth.Algorithm.String())
		}
	} else {
		d.skip("issuerAuth.signature", "no DS certificate")
	}

	// 4. The MSO.
	mso, err := ParseMobileSecurityObject(auth.Payload, !opts.Lenient)
	if err != nil {
		d.fail("mso", err)
		return d
	}
	d.MSO = mso
	d.pass("mso", fmt.Sprintf("version %s, %s", mso.Version, mso.DigestAlgorithm))
	vi := mso.ValidityInfo
	if ds != nil {
		if vi.Signed.Before(ds.NotBefore) || vi.Signed.After(ds.NotAfter) {
			d.fail("mso.signed", newErr("verify MSO", ErrMSOSignedOutsideCertificate, vi.Signed.Format(time.RFC3339), nil))
		} else {
			d.pass("mso.signed", "signed "+vi.Signed.Format(time.RFC3339)+" within the DS validity")
		}
	}
	switch {
	case now.Add(opts.ClockSkew).Before(vi.ValidFrom):
		d.fail("mso.validity", newErr("verify MSO", ErrMSONotYetValid, "validFrom "+vi.ValidFrom.Format(time.RFC3339), nil))
	case now.Add(-opts.ClockSkew).After(vi.ValidUntil):
		d.fail("mso.validity", newErr("verify MSO", ErrMSOExpired, "validUntil "+vi.ValidUntil.Format(time.RFC3339), nil))
	default:
		d.pass("mso.validity", vi.ValidFrom.Format(time.RFC3339)+" .. "+vi.ValidUntil.Format(time.RFC3339))
	}

	// 5. docType.
	switch {
	case docType != "" && docType != mso.DocType:
		d.fail("docType", newErr("verify docType", ErrDocTypeMismatch, fmt.Sprintf("document says %q, MSO says %q", docType, mso.DocType), nil))
	case opts.DocType != "" && opts.DocType != mso.DocType:
		d.fail("docType", newErr("verify docType", ErrDocTypeMismatch, fmt.Sprintf("expected %q, MSO says %q", opts.DocType, mso.DocType), nil))
	default:
		d.pass("docType", mso.DocType)
	}
	if d.DocType == "" {
		d.DocType = mso.DocType
	}

	// 6. Every disclosed element's digest (one hasher for them all).
	var h hash.Hash
	if hnew, err := mso.DigestAlgorithm.hash(); err == nil {
		h = hnew()
	}
	sum := make([]byte, 0, 64)
	for _, ns := range sortedKeys(is.NameSpaces) {
		items := is.NameSpaces[ns]
		seenID := make(map[uint64]bool, len(items))
		seenName := make(map[string]bool, len(items))
		for _, it := range items {
			// The check's name and detail share one allocation.
			idText := strconv.FormatUint(it.DigestID, 10)
			nameDetail := "element " + ns + "/" + it.ElementIdentifier + "digest ID " + idText
			cut := len(nameDetail) - len("digest ID ") - len(idText)
			name, detail := nameDetail[:cut], nameDetail[cut:]
			if seenID[it.DigestID] || seenName[it.ElementIdentifier] {
				d.fail(name, newErr("verify element", ErrDuplicateElement, fmt.Sprintf("digest ID %d", it.DigestID), nil))
				continue
			}
			seenID[it.DigestID], seenName[it.ElementIdentifier] = true, true
			if err := checkItemDigest(h, sum, mso, ns, it); err != nil {
				d.fail(name, err)
				continue
			}
			d.pass(name, detail)
			if d.Elements[ns] == nil {
				d.Elements[ns] = make(map[string]any, len(items))
			}
			d.Elements[ns][it.ElementIdentifier] = it.ElementValue
		}
	}

	// 7. issuing_country / issuing_jurisdiction against the DS subject.
	if ds != nil {
		if c, ok := d.Elements[NamespaceMDL]["issuing_country"].(string); ok {
			if len(ds.Subject.Country) != 1 || ds.Subject.Country[0] != c {
				d.fail("issuing_country", newErr("verify issuing_country", ErrIssuingCountry, fmt.Sprintf("element %q, DS C=%v", c, ds.Subject.Country), nil))
			} else {
				d.pass("issuing_country", c+" = DS countryName")
			}
		}
		if j, ok := d.Elements[NamespaceMDL]["issuing_jurisdiction"].(string); ok && len(ds.Subject.Province) > 0 {
			if ds.Subject.Province[0] != j {
				d.fail("issuing_jurisdiction", newErr("verify issuing_jurisdiction", ErrIssuingCountry, fmt.Sprintf("element %q, DS ST=%v", j, ds.Subject.Province), nil))
			} else {
				d.pass("issuing_jurisdiction", j+" = DS stateOrProvinceName")
			}
		}
	}

	// 8. Device authentication.
	if dev != nil {
		verifyDeviceAuth(d, mso, dev, opts)
	}
	return d
}

// checkItemDigest compares an item's digest (computed with h, a hasher of the MSO's digest algorithm, or a new
// one when nil, into sum's storage) with valueDigests; on a mismatch it tells a swapped digest ID from a
// changed value.
func checkItemDigest(h hash.Hash, sum []byte, mso *MobileSecurityObject, ns string, it *IssuerSignedItem) error {
	ids, ok := mso.ValueDigests[ns]
	if !ok {
		return newErr("verify element", ErrUnknownDigestID, "namespace "+ns+" not in valueDigests", nil)
	}
	want, ok := ids[it.DigestID]
	if !ok {
		return newErr("verify element", ErrUnknownDigestID, fmt.Sprintf("digest ID %d not in valueDigests", it.DigestID), nil)
	}
	if h == nil {
		hnew, err := mso.DigestAlgorithm.hash()
		if err != nil {
			return err
		}
		h = hnew()
	}
	h.Reset()
	h.Write(it.bytes)
	if subtle.ConstantTimeCompare(h.Sum(sum[:0]), want) == 1 {
		return nil
	}
	if other, ok := signedUnderOtherID(mso, ns, it); ok {
		return newErr("verify element", ErrDigestIDMismatch, fmt.Sprintf("%s carries digest ID %d but was signed under digest ID %d", it.ElementIdentifier, it.DigestID, other), nil)
	}
	return newErr("verify element", ErrDigestMismatch, fmt.Sprintf("%s (digest ID %d)", it.ElementIdentifier, it.DigestID), nil)
}

// signedUnderOtherID re-encodes the received item with each other digest ID of the namespace (changing nothing
// else, keeping its key order) and reports the ID under which it was signed, if any. Diagnostic only: it runs
// after a mismatch, bounded by the namespace's digest count.
func signedUnderOtherID(mso *MobileSecurityObject, ns string, it *IssuerSignedItem) (uint64, bool) {
	inner, err := untag24(it.bytes)
	if err != nil {
		return 0, false
	}
	keys, vals, err := mapEntries(inner)
	if err != nil {
		return 0, false
	}
	idx := -1
	for i, k := range keys {
		if bytes.Equal(k, []byte("\x68digestID")) {
			idx = i
		}
	}
	if idx < 0 {
		return 0, false
	}
	for id, want := range mso.ValueDigests[ns] {
		if id == it.DigestID {
			continue
		}
		b := appendHead(nil, cborMajorMap, uint64(len(keys)))
		for i := range keys {
			b = append(b, keys[i]...)
			if i == idx {
				b = appendHead(b, 0, id)
			} else {
				b = append(b, vals[i]...)
			}
		}
		if bytes.Equal(mso.DigestAlgorithm.sum(tag24(b)), want) {
			return id, true
		}
	}
	return 0, false
}

func verifyDeviceAuth(d *DocumentResult, mso *MobileSecurityObject, dev *DeviceSigned, opts VerifyOptions) {
	t := opts.SessionTranscript
	if t == nil {
		d.fail("deviceAuth", newErr("verify deviceAuth", ErrMissingSessionTranscript, "", nil))
		return
	}
	d.Handover = t.Kind()
	// DeviceSigned elements must be authorized by keyAuthorizations.
	for ns, elems := range dev.NameSpaces {
		for id := range elems {
			if !authorized(mso.KeyAuthorizations, ns, id) {
				d.fail("deviceSigned.nameSpaces", newErr("verify deviceSigned", ErrDeviceAuth, fmt.Sprintf("device key not authorized for %s/%s", ns, id), nil))
				return
			}
		}
	}
	da := deviceAuthenticationBytes(t, d.DocType, dev.NameSpacesBytes)
	assumed := fmt.Sprintf("over DeviceAuthentication with a %s session transcript", t.Kind())
	switch {
	case dev.Signature != nil:
		d.DeviceAuthentication = "signature"
		if dev.Signature.Payload != nil && !bytes.Equal(dev.Signature.Payload, da) {
			d.fail("deviceAuth", newErr("verify deviceSignature", ErrDeviceAuth, "attached payload is not the DeviceAuthentication of this session ("+t.Kind().String()+")", nil))
			return
		}
		if err := dev.Signature.verify(mso.DeviceKey, da); err != nil {
			d.fail("deviceAuth", newErr("verify deviceSignature", ErrDeviceAuth, "signature does not verify "+assumed, err))
			return
		}
		d.pass("deviceAuth", "deviceSignature "+dev.Signature.Algorithm.String()+" "+assumed)
	case dev.MAC != nil:
		d.DeviceAuthentication = "mac"
		pub, ok := mso.DeviceKey.(*ecdsa.PublicKey)
		if opts.ReaderKey == nil || !ok {
			d.fail("deviceAuth", newErr("verify deviceMac", ErrMissingSessionTranscript, "deviceMac needs VerifyOptions.ReaderKey and an EC device key", nil))
			return
		}
		key, err := eMacKey(opts.ReaderKey, pub, t)
		if err != nil {
			d.fail("deviceAuth", err)
			return
		}
		if err := dev.MAC.verify(key, da); err != nil {
			d.fail("deviceAuth", newErr("verify deviceMac", ErrDeviceAuth, "MAC does not verify "+assumed, err))
			return
		}
		d.pass("deviceAuth", "deviceMac HMAC 256/256 "+assumed)
	}
}

func authorized(ka *KeyAuthorizations, ns, id string) bool {
	if ka == nil {
		return false
	}
	for _, n := range ka.NameSpaces {
		if n == ns {
			return true
		}
	}
	for _, e := range ka.DataElements[ns] {
		if e == id {
			return true
		}
	}
	return false
}
