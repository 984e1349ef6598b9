package kmssigner

import (
	"context"
	"fmt"
)

// Client is the part of a key-management service a Signer needs, in AWS KMS's terms: GetPublicKey and Sign.
// kmssigner/localkms implements it in-process, kmssigner/awskms over the AWS SDK, kmssigner/pkcs11 over a
// PKCS#11 token. Implementations must be safe for concurrent use and should return promptly when ctx is
// cancelled (the Signer adds no timeout of its own). KMS refusals should be *APIError.
type Client interface {
	// GetPublicKey returns the key's public half and what the KMS says of it.
	GetPublicKey(ctx context.Context, keyID string) (*PublicKeyInfo, error)
	// Sign signs req.Message (a message, a digest or an ML-DSA μ, as req.MessageType says) and returns the
	// signature in the KMS's encoding (DER for ECDSA, PKCS#1 for RSA, raw for ML-DSA and Ed25519).
	Sign(ctx context.Context, req *SignRequest) ([]byte, error)
}

// PublicKeyInfo is what GetPublicKey returns.
type PublicKeyInfo struct {
	KeyID             string   // the key's ARN or id as the KMS reports it
	PublicKey         []byte   // DER SubjectPublicKeyInfo (ML-DSA per RFC 9881)
	KeySpec           string   // KeySpec* constants; empty if the backend cannot tell (then taken from PublicKey)
	KeyUsage          string   // must be "SIGN_VERIFY" (KeyUsageSignVerify) for kmssigner.New to accept the key
	SigningAlgorithms []string // SigningAlgorithm* constants the key supports; empty means "not reported"
}

// SignRequest is one Sign call.
type SignRequest struct {
	KeyID            string // the key reference exactly as given to kmssigner.New
	Message          []byte
	MessageType      string // MessageType* constants
	SigningAlgorithm string // SigningAlgorithm* constants
}

// AWS KMS key specs, signing algorithms and message types, spelled as the KMS API spells them.
const (
	KeySpecRSA2048             = "RSA_2048"
	KeySpecRSA3072             = "RSA_3072"
	KeySpecRSA4096             = "RSA_4096"
	KeySpecECCNISTP256         = "ECC_NIST_P256"
	KeySpecECCNISTP384         = "ECC_NIST_P384"
	KeySpecECCNISTP521         = "ECC_NIST_P521"
	KeySpecECCNISTEdwards25519 = "ECC_NIST_EDWARDS25519"
	KeySpecMLDSA44             = "ML_DSA_44"
	KeySpecMLDSA65             = "ML_DSA_65"
	KeySpecMLDSA87             = "ML_DSA_87"

	KeyUsageSignVerify = "SIGN_VERIFY"

	SigningAlgorithmRSASSAPSSSHA256      = "RSASSA_PSS_SHA_256"
	SigningAlgorithmRSASSAPSSSHA384      = "RSASSA_PSS_SHA_384"
	SigningAlgorithmRSASSAPSSSHA512      = "RSASSA_PSS_SHA_512"
	SigningAlgorithmRSASSAPKCS1V15SHA256 = "RSASSA_PKCS1_V1_5_SHA_256"
	SigningAlgorithmRSASSAPKCS1V15SHA384 = "RSASSA_PKCS1_V1_5_SHA_384"
	SigningAlgorithmRSASSAPKCS1V15SHA512 = "RSASSA_PKCS1_V1_5_SHA_512"
	SigningAlgorithmECDSASHA256          = "ECDSA_SHA_256"
	SigningAlgorithmECDSASHA384          = "ECDSA_SHA_384"
	SigningAlgorithmECDSASHA512          = "ECDSA_SHA_512"
	SigningAlgorithmEd25519SHA512        = "ED25519_SHA_512"
	SigningAlgorithmMLDSASHAKE256        = "ML_DSA_SHAKE_256"

	MessageTypeRaw        = "RAW"
	MessageTypeDigest     = "DIGEST"
	MessageTypeExternalMu = "EXTERNAL_MU"

	// MaxRawMessage is the largest message KMS Sign takes (RAW or DIGEST).
	MaxRawMessage = 4096
)

// APIError is an error reported by a KMS, with its AWS error name (for example "NotFoundException",
// "ThrottlingException", "KMSInvalidStateException", "ValidationException", "AccessDeniedException").
// Backends return it so callers can tell KMS refusals apart from transport failures.
type APIError struct {
	Code    string
	Message string
}

func (e *APIError) Error() string { return fmt.Sprintf("kmssigner: %s: %s", e.Code, e.Message) }

// ErrorCode returns the AWS error name (the smithy.APIError method set).
func (e *APIError) ErrorCode() string { return e.Code }

// ErrorMessage returns the message.
func (e *APIError) ErrorMessage() string { return e.Message }
