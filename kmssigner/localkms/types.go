package localkms

import (
	"strconv"
	"time"
)

// The request and response shapes below are AWS KMS's, field for field as the JSON 1.1 protocol spells them
// (blobs are []byte, base64 in JSON; timestamps are epoch seconds). Fields AWS defines that this KMS ignores are
// accepted and documented as such.

// EpochSeconds is an AWS JSON timestamp: seconds since the Unix epoch, as a JSON number.
type EpochSeconds float64

// Time converts to time.Time.
func (e EpochSeconds) Time() time.Time {
	s := float64(e)
	sec := int64(s)
	return time.Unix(sec, int64((s-float64(sec))*1e9)).UTC()
}

// MarshalJSON writes the number with millisecond precision, as AWS does.
func (e EpochSeconds) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(e), 'f', 3, 64), nil
}

func epoch(t time.Time) EpochSeconds { return EpochSeconds(float64(t.UnixMilli()) / 1000) }

// Tag is a key tag (accepted by CreateKey and ignored).
type Tag struct {
	TagKey   string
	TagValue string
}

// CreateKeyInput is the CreateKey request. KeyUsage must be SIGN_VERIFY; KeySpec one of the signing key specs
// (CustomerMasterKeySpec is the deprecated spelling). Origin must be empty or AWS_KMS. Policy, Tags,
// BypassPolicyLockoutSafetyCheck and MultiRegion are accepted and ignored (this KMS has no policies).
type CreateKeyInput struct {
	KeySpec                        string `json:",omitempty"`
	CustomerMasterKeySpec          string `json:",omitempty"`
	KeyUsage                       string `json:",omitempty"`
	Description                    string `json:",omitempty"`
	Origin                         string `json:",omitempty"`
	Policy                         string `json:",omitempty"`
	BypassPolicyLockoutSafetyCheck bool   `json:",omitempty"`
	MultiRegion                    bool   `json:",omitempty"`
	CustomKeyStoreId               string `json:",omitempty"`
	XksKeyId                       string `json:",omitempty"`
	Tags                           []Tag  `json:",omitempty"`

	// Exportable is pkikit's extension, not part of AWS KMS (JSON "PkikitExportable"; the AWS SDKs cannot send
	// it): the key may leave the KMS through ExportKey, encrypted under a passphrase. Default false, and fixed
	// at creation: it is bound into the key file's authenticated data, so editing the file cannot set it.
	Exportable bool `json:"PkikitExportable,omitempty"`
}

// KeyMetadata describes a key (CreateKey, DescribeKey).
type KeyMetadata struct {
	AWSAccountId                string
	Arn                         string
	CreationDate                EpochSeconds
	CustomerMasterKeySpec       string
	DeletionDate                *EpochSeconds `json:",omitempty"`
	Description                 string
	Enabled                     bool
	KeyId                       string
	KeyManager                  string
	KeySpec                     string
	KeyState                    string
	KeyUsage                    string
	MultiRegion                 bool
	Origin                      string
	PendingDeletionWindowInDays *int32 `json:",omitempty"`
	SigningAlgorithms           []string

	// Exportable is pkikit's extension (JSON "PkikitExportable"): the key was created exportable.
	Exportable bool `json:"PkikitExportable,omitempty"`
}

// CreateKeyOutput is the CreateKey response.
type CreateKeyOutput struct {
	KeyMetadata *KeyMetadata
}

// CreateAliasInput is the CreateAlias request: AliasName "alias/..." and the key id or key ARN it points to.
type CreateAliasInput struct {
	AliasName   string
	TargetKeyId string
}

// CreateAliasOutput is the (empty) CreateAlias response.
type CreateAliasOutput struct{}

// ListKeysInput is the ListKeys request (Limit 1–1000, default 100).
type ListKeysInput struct {
	Limit  int32  `json:",omitempty"`
	Marker string `json:",omitempty"`
}

// KeyListEntry is one key in ListKeys.
type KeyListEntry struct {
	KeyArn string
	KeyId  string
}

// ListKeysOutput is the ListKeys response.
type ListKeysOutput struct {
	Keys       []KeyListEntry
	NextMarker string `json:",omitempty"`
	Truncated  bool
}

// ListAliasesInput is the ListAliases request; KeyId (a key id or key ARN) restricts it to one key's aliases.
type ListAliasesInput struct {
	KeyId  string `json:",omitempty"`
	Limit  int32  `json:",omitempty"`
	Marker string `json:",omitempty"`
}

// AliasListEntry is one alias in ListAliases.
type AliasListEntry struct {
	AliasArn        string
	AliasName       string
	TargetKeyId     string
	CreationDate    *EpochSeconds `json:",omitempty"`
	LastUpdatedDate *EpochSeconds `json:",omitempty"`
}

// ListAliasesOutput is the ListAliases response.
type ListAliasesOutput struct {
	Aliases    []AliasListEntry
	NextMarker string `json:",omitempty"`
	Truncated  bool
}

// DescribeKeyInput is the DescribeKey request (KeyId: key id, key ARN, alias name or alias ARN).
type DescribeKeyInput struct {
	KeyId       string
	GrantTokens []string `json:",omitempty"`
}

// DescribeKeyOutput is the DescribeKey response.
type DescribeKeyOutput struct {
	KeyMetadata *KeyMetadata
}

// GetPublicKeyInput is the GetPublicKey request.
type GetPublicKeyInput struct {
	KeyId       string
	GrantTokens []string `json:",omitempty"`
}

// GetPublicKeyOutput is the GetPublicKey response (PublicKey: DER SubjectPublicKeyInfo).
type GetPublicKeyOutput struct {
	KeyId                 string
	PublicKey             []byte
	KeySpec               string
	CustomerMasterKeySpec string
	KeyUsage              string
	SigningAlgorithms     []string
}

// SignInput is the Sign request. MessageType is RAW (default), DIGEST or EXTERNAL_MU; Message is 1–4096 bytes.
type SignInput struct {
	KeyId            string
	Message          []byte
	MessageType      string `json:",omitempty"`
	SigningAlgorithm string
	GrantTokens      []string `json:",omitempty"`
	DryRun           bool     `json:",omitempty"`
}

// SignOutput is the Sign response (KeyId is the key ARN).
type SignOutput struct {
	KeyId            string
	Signature        []byte
	SigningAlgorithm string
}

// VerifyInput is the Verify request.
type VerifyInput struct {
	KeyId            string
	Message          []byte
	MessageType      string `json:",omitempty"`
	Signature        []byte
	SigningAlgorithm string
	GrantTokens      []string `json:",omitempty"`
	DryRun           bool     `json:",omitempty"`
}

// VerifyOutput is the Verify response; an invalid signature is the KMSInvalidSignatureException error instead.
type VerifyOutput struct {
	KeyId            string
	SignatureValid   bool
	SigningAlgorithm string
}

// ScheduleKeyDeletionInput is the ScheduleKeyDeletion request (PendingWindowInDays 7–30, default 30).
type ScheduleKeyDeletionInput struct {
	KeyId               string
	PendingWindowInDays int32 `json:",omitempty"`
}

// ScheduleKeyDeletionOutput is the ScheduleKeyDeletion response.
type ScheduleKeyDeletionOutput struct {
	KeyId               string
	DeletionDate        *EpochSeconds `json:",omitempty"`
	KeyState            string
	PendingWindowInDays int32
}

// Key states.
const (
	KeyStateEnabled         = "Enabled"
	KeyStatePendingDeletion = "PendingDeletion"
)
