package csr

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"net"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/internal/der"
	"github.com/pkikit/pkikit/x509ext"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Object identifiers of the PKCS#9 request attributes this package builds and reads (RFC 2985 §5.4).
var (
	OIDExtensionRequest  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 14}
	OIDChallengePassword = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 7}
	OIDSubjectAltName    = der.OIDSubjectAltName
)

// MaxChallengePasswordLength is pkcs-9-ub-challengePassword (RFC 2985): the most characters a challenge
// password may have.
const MaxChallengePasswordLength = 255

// Attribute is one request attribute: a type and the DER of each of its values (the SET OF AttributeValue).
type Attribute struct {
	Type   asn1.ObjectIdentifier
	Values [][]byte
}

// Template describes the request to build. The zero value makes a request with an empty subject and no
// attributes, signed with the key's default algorithm.
type Template struct {
	// Subject is the subject name, encoded as crypto/x509 encodes it. RawSubject, if set, is used instead
	// (one DER Name); setting both is an error.
	Subject    pkix.Name
	RawSubject []byte

	// Subject alternative names, put in a subjectAltName extension inside the extensionRequest attribute
	// (critical when the subject is empty, RFC 5280 §4.2.1.6). Names must be ASCII (IA5String).
	DNSNames       []string
	EmailAddresses []string
	IPAddresses    []net.IP
	URIs           []*url.URL

	// Extensions are further requested extensions (keyUsage, extKeyUsage, basicConstraints, ...), each with its
	// OID, criticality and DER value, written after the subjectAltName in the order given. An extension OID may
	// appear once; a subjectAltName here cannot be combined with the name fields above.
	Extensions []pkix.Extension

	// ChallengePassword, if not empty, is sent as the PKCS#9 challengePassword attribute (PrintableString when
	// it fits, UTF8String otherwise; at most MaxChallengePasswordLength characters).
	ChallengePassword string

	// Attributes are further request attributes, written as given. An entry whose Type is OIDChallengePassword
	// or OIDExtensionRequest and whose Values is nil is a placeholder: it marks where the attribute built from
	// the fields above goes. Attributes not placed this way come after the listed ones: challengePassword, then
	// extensionRequest. An attribute type may appear once.
	Attributes []Attribute

	// KeepAttributeOrder writes the attributes (and the values inside each attribute) in the order above.
	// By default they are sorted as DER requires of a SET OF (X.690 §11.6), which is what OpenSSL writes;
	// crypto/x509 does not sort. Either order verifies everywhere: the signature covers the bytes as written.
	KeepAttributeOrder bool

	// SignatureAlgorithm chooses the signature algorithm; the zero value takes the key's default (ML-DSA by
	// parameter set, ECDSA with the curve's hash, SHA-256 with RSA PKCS#1 v1.5, Ed25519). Create only: the
	// request info that NewTBS returns does not name the algorithm.
	SignatureAlgorithm x509ext.SignatureAlgorithm
}

// Create builds a PKCS#10 certificate request (RFC 2986) for signer's public key as t describes, signs it with
// one call to the signer, and returns its DER. ctx reaches signers that implement SignContext or
// SignMessageContext (remote keys); a signer that is not an in-memory key has its signature verified against its
// public key before Create returns. t may be nil.
func Create(ctx context.Context, signer crypto.Signer, t *Template) ([]byte, error) {
	const op = "create"
	if signer == nil {
		return nil, newErr(op, ErrInvalidTemplate, "nil signer", nil)
	}
	if t == nil {
		t = &Template{}
	}
	pub := signerPublic(signer)
	a, err := chooseAlgorithm(op, pub, t.SignatureAlgorithm)
	if err != nil {
		return nil, err
	}
	tbs, err := buildTBS(op, pub, t)
	if err != nil {
		return nil, err
	}
	sig, err := alg.Sign(ctx, signer, a, tbs)
	if err != nil {
		return nil, newErr(op, ErrSignerFailed, a.String(), err)
	}
	return marshalRequest(tbs, a, sig), nil
}

// NewTBS returns the DER CertificationRequestInfo (the bytes a request's signature covers) for public key pub
// as t describes: the first step of making a request whose signature is made elsewhere. Sign the returned bytes
// with the subject's private key (hash them first for ECDSA and RSA as the algorithm says; ML-DSA and Ed25519
// sign them as they are), then call Assemble. t.SignatureAlgorithm is not used: the request info does not name
// the algorithm.
func NewTBS(pub crypto.PublicKey, t *Template) ([]byte, error) {
	const op = "new TBS"
	if t == nil {
		t = &Template{}
	}
	if _, err := alg.KeyTypeOf(pub); err != nil {
		return nil, algErr(op, "public key", err)
	}
	return buildTBS(op, pub, t)
}

// Assemble returns the DER request made of tbs (as NewTBS returned it), the signature algorithm a (zero: the
// key's default) and signature, after checking that signature verifies under the public key inside tbs.
func Assemble(tbs []byte, a x509ext.SignatureAlgorithm, signature []byte) ([]byte, error) {
	const op = "assemble"
	info, err := parseTBS(op, tbs)
	if err != nil {
		return nil, err
	}
	if a == alg.Unknown {
		a = info.keyType.DefaultAlgorithm()
	}
	if err := a.CheckKeyType(info.keyType); err != nil {
		return nil, algErr(op, "signature algorithm", err)
	}
	if err := alg.Verify(info.pub, a, tbs, signature); err != nil {
		return nil, newErr(op, ErrBadSignature, a.String(), err)
	}
	return marshalRequest(tbs, a, signature), nil
}

func chooseAlgorithm(op string, pub crypto.PublicKey, a alg.Algorithm) (alg.Algorithm, error) {
	kt, err := alg.KeyTypeOf(pub)
	if err != nil {
		return alg.Unknown, algErr(op, "public key", err)
	}
	if a == alg.Unknown {
		return kt.DefaultAlgorithm(), nil
	}
	if err := a.CheckKeyType(kt); err != nil {
		return alg.Unknown, algErr(op, "signature algorithm", err)
	}
	return a, nil
}

// algErr maps an error of the algorithm table to this package's sentinels, keeping it as the cause.
func algErr(op, reason string, err error) error {
	switch {
	case errors.Is(err, alg.ErrKeyMismatch):
		return newErr(op, ErrKeyMismatch, reason, err)
	case errors.Is(err, alg.ErrUnsupportedAlgorithm), errors.Is(err, alg.ErrUnsupportedKey):
		return newErr(op, ErrUnsupportedAlgorithm, reason, err)
	}
	return newErr(op, ErrMalformed, reason, err)
}

// marshalRequest writes CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm,
// signature BIT STRING }.
func marshalRequest(tbs []byte, a alg.Algorithm, sig []byte) []byte {
	b := cryptobyte.NewBuilder(make([]byte, 0, len(tbs)+len(sig)+96))
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		a.AddAlgorithmIdentifier(b)
		b.AddASN1BitString(sig)
	})
	return b.BytesOrPanic()
}

// buildTBS writes CertificationRequestInfo ::= SEQUENCE { version INTEGER (0), subject Name,
// subjectPKInfo SubjectPublicKeyInfo, attributes [0] IMPLICIT SET OF Attribute }.
func buildTBS(op string, pub crypto.PublicKey, t *Template) ([]byte, error) {
	spki, err := alg.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, algErr(op, "public key", err)
	}
	subject, err := subjectDER(op, t)
	if err != nil {
		return nil, err
	}
	attrs, err := buildAttributes(op, t, bytes.Equal(subject, []byte{0x30, 0x00}))
	if err != nil {
		return nil, err
	}
	size := 32 + len(subject) + len(spki)
	for _, a := range attrs {
		size += len(a)
	}
	b := cryptobyte.NewBuilder(make([]byte, 0, size))
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		b.AddBytes(subject)
		b.AddBytes(spki)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			for _, a := range attrs {
				b.AddBytes(a)
			}
		})
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, newErr(op, ErrInvalidTemplate, "encoding the request info", err)
	}
	return out, nil
}

func subjectDER(op string, t *Template) ([]byte, error) {
	if t.RawSubject != nil {
		if len(t.Subject.ToRDNSequence()) != 0 {
			return nil, newErr(op, ErrInvalidTemplate, "set Subject or RawSubject, not both", nil)
		}
		var rdn pkix.RDNSequence
		rest, err := asn1.Unmarshal(t.RawSubject, &rdn)
		if err != nil || len(rest) != 0 {
			return nil, newErr(op, ErrInvalidTemplate, "RawSubject is not one DER Name", err)
		}
		return t.RawSubject, nil
	}
	name, err := der.MarshalName(t.Subject)
	if err != nil {
		return nil, newErr(op, ErrInvalidTemplate, "subject", err)
	}
	return name, nil
}

// isOneElement reports whether v is exactly one DER TLV.
func isOneElement(v []byte) bool {
	s := cryptobyte.String(v)
	var e cryptobyte.String
	var tag cbasn1.Tag
	return s.ReadAnyASN1Element(&e, &tag) && s.Empty()
}

func buildExtensionRequest(op string, t *Template, subjectEmpty bool) ([]byte, error) {
	names := der.GeneralNames{DNSNames: t.DNSNames, EmailAddresses: t.EmailAddresses, IPAddresses: t.IPAddresses, URIs: t.URIs}
	var exts []pkix.Extension
	if !names.Empty() {
		san, err := der.MarshalGeneralNames(names)
		if err != nil {
			return nil, newErr(op, ErrInvalidTemplate, "subject alternative names", err)
		}
		exts = append(exts, pkix.Extension{Id: OIDSubjectAltName, Critical: subjectEmpty, Value: san})
	}
	for _, e := range t.Extensions {
		if len(e.Id) < 2 {
			return nil, newErr(op, ErrInvalidTemplate, "extension without an OID", nil)
		}
		if !isOneElement(e.Value) {
			return nil, newErr(op, ErrInvalidTemplate, "extension "+e.Id.String()+": value is not one DER element", nil)
		}
		for _, prev := range exts {
			if prev.Id.Equal(e.Id) {
				return nil, newErr(op, ErrInvalidTemplate, "extension "+e.Id.String()+" appears twice (or with the SAN fields)", nil)
			}
		}
		exts = append(exts, e)
	}
	if len(exts) == 0 {
		return nil, nil
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(OIDExtensionRequest)
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, e := range exts {
					der.AddExtension(b, e)
				}
			})
		})
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, newErr(op, ErrInvalidTemplate, "extension request", err)
	}
	return out, nil
}

func isPrintable(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte(" '()+,-./:=?", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func buildChallengePassword(op, pw string) ([]byte, error) {
	if pw == "" {
		return nil, nil
	}
	if !utf8.ValidString(pw) {
		return nil, newErr(op, ErrInvalidTemplate, "challenge password is not valid UTF-8", nil)
	}
	if utf8.RuneCountInString(pw) > MaxChallengePasswordLength {
		return nil, newErr(op, ErrInvalidTemplate, "challenge password longer than 255 characters", nil)
	}
	tag := cbasn1.UTF8String
	if isPrintable(pw) {
		tag = cbasn1.PrintableString
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(OIDChallengePassword)
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
			b.AddASN1(tag, func(b *cryptobyte.Builder) { b.AddBytes([]byte(pw)) })
		})
	})
	return b.BytesOrPanic(), nil
}

func buildAttributes(op string, t *Template, subjectEmpty bool) ([][]byte, error) {
	cp, err := buildChallengePassword(op, t.ChallengePassword)
	if err != nil {
		return nil, err
	}
	er, err := buildExtensionRequest(op, t, subjectEmpty)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	var seen []asn1.ObjectIdentifier
	placedCP, placedER := false, false
	for _, a := range t.Attributes {
		if len(a.Type) < 2 {
			return nil, newErr(op, ErrInvalidTemplate, "attribute without a type", nil)
		}
		if slices.ContainsFunc(seen, a.Type.Equal) {
			return nil, newErr(op, ErrInvalidTemplate, "attribute "+a.Type.String()+" appears twice", nil)
		}
		seen = append(seen, a.Type)
		isCP, isER := a.Type.Equal(OIDChallengePassword), a.Type.Equal(OIDExtensionRequest)
		switch {
		case isCP && a.Values == nil:
			if cp == nil {
				return nil, newErr(op, ErrInvalidTemplate, "challengePassword placeholder without a ChallengePassword", nil)
			}
			out, placedCP = append(out, cp), true
			continue
		case isER && a.Values == nil:
			if er == nil {
				return nil, newErr(op, ErrInvalidTemplate, "extensionRequest placeholder without names or extensions", nil)
			}
			out, placedER = append(out, er), true
			continue
		case isCP && cp != nil, isER && er != nil:
			return nil, newErr(op, ErrInvalidTemplate, "attribute "+a.Type.String()+" given both raw and from template fields", nil)
		}
		if len(a.Values) == 0 {
			return nil, newErr(op, ErrInvalidTemplate, "attribute "+a.Type.String()+" has no value", nil)
		}
		values := slices.Clone(a.Values)
		for _, v := range values {
			if !isOneElement(v) {
				return nil, newErr(op, ErrInvalidTemplate, "attribute "+a.Type.String()+": value is not one DER element", nil)
			}
		}
		if !t.KeepAttributeOrder {
			slices.SortFunc(values, bytes.Compare)
		}
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(a.Type)
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
				for _, v := range values {
					b.AddBytes(v)
				}
			})
		})
		enc, err := b.Bytes()
		if err != nil {
			return nil, newErr(op, ErrInvalidTemplate, "attribute "+a.Type.String(), err)
		}
		out = append(out, enc)
	}
	if cp != nil && !placedCP {
		out = append(out, cp)
	}
	if er != nil && !placedER {
		out = append(out, er)
	}
	if !t.KeepAttributeOrder {
		// DER SET OF: ascending order of the encodings (X.690 §11.6). DER elements are never prefixes of one
		// another, so plain byte order equals the standard's zero-padded comparison.
		slices.SortFunc(out, bytes.Compare)
	}
	return out, nil
}
