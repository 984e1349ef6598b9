package localkms

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pkikit/pkikit/kmssigner"
)

// Credentials are an AWS access key pair the server accepts.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
}

// ServerOptions configure a Server.
type ServerOptions struct {
	// Credentials the server accepts. Every request must carry a valid SigV4 signature by one of them.
	Credentials []Credentials
	// AllowUnauthenticatedUnsafe serves requests without checking SigV4 (only with no Credentials).
	AllowUnauthenticatedUnsafe bool
	// AllowNonLoopbackUnsafe lets Listen bind to addresses other than loopback.
	AllowNonLoopbackUnsafe bool
	// MaxClockSkew bounds how far X-Amz-Date may be from the KMS clock; default 15 minutes (as AWS).
	MaxClockSkew time.Duration
	// MaxBodySize bounds request bodies; default 64 KiB.
	MaxBodySize int64
	// AllowExportKeyUnsafe serves TrentService.PkikitExportKey (pkikit's extension): exportable keys leave the
	// KMS over the network, encrypted under the passphrase the request carries in its body (in clear on plain
	// HTTP). Off by default: the operation is then UnknownOperationException.
	AllowExportKeyUnsafe bool
}

// Server serves a KMS over the AWS KMS JSON 1.1 protocol (POST /, X-Amz-Target: TrentService.<Op>,
// Content-Type: application/x-amz-json-1.1, AWS SigV4), so AWS SDKs and the AWS CLI work against it with a
// custom endpoint. Errors are AWS error JSON ({"__type": "NotFoundException", "message": ...}) with AWS's HTTP
// status. It implements http.Handler. Besides AWS's operations it serves pkikit's PkikitSetCertificateChain and,
// with AllowExportKeyUnsafe, PkikitExportKey. The audit log records the SigV4 access key id as the caller
// ("anonymous" with AllowUnauthenticatedUnsafe).
type Server struct {
	kms   *KMS
	creds map[string]string
	opts  ServerOptions
}

var _ http.Handler = (*Server)(nil)

// NewServer returns a Server for k. It refuses to build one without credentials unless
// AllowUnauthenticatedUnsafe is set.
func NewServer(k *KMS, opts *ServerOptions) (*Server, error) {
	if k == nil {
		return nil, storeErr("new server", "", ErrInvalidOptions, "nil KMS", nil)
	}
	s := &Server{kms: k, creds: map[string]string{}}
	if opts != nil {
		s.opts = *opts
	}
	for _, c := range s.opts.Credentials {
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			return nil, storeErr("new server", "", ErrInvalidOptions, "empty access key id or secret", nil)
		}
		s.creds[c.AccessKeyID] = c.SecretAccessKey
	}
	if len(s.creds) == 0 && !s.opts.AllowUnauthenticatedUnsafe {
		return nil, storeErr("new server", "", ErrInvalidOptions, "no credentials (set Credentials, or AllowUnauthenticatedUnsafe)", nil)
	}
	if len(s.creds) > 0 && s.opts.AllowUnauthenticatedUnsafe {
		return nil, storeErr("new server", "", ErrInvalidOptions, "Credentials and AllowUnauthenticatedUnsafe together", nil)
	}
	if s.opts.MaxClockSkew <= 0 {
		s.opts.MaxClockSkew = 15 * time.Minute
	}
	if s.opts.MaxBodySize <= 0 {
		s.opts.MaxBodySize = 64 << 10
	}
	return s, nil
}

// DefaultAddr is where the server listens when Listen gets an empty address.
const DefaultAddr = "127.0.0.1:4599"

// Listen opens a TCP listener on addr (DefaultAddr if empty). Unless AllowNonLoopbackUnsafe is set, the host
// must be a loopback address or "localhost" (ErrNotLoopback otherwise).
func (s *Server) Listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, storeErr("listen", addr, ErrInvalidOptions, "", err)
	}
	if !s.opts.AllowNonLoopbackUnsafe {
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, storeErr("listen", addr, ErrNotLoopback, "", nil)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, storeErr("listen", addr, ErrStore, "", err)
	}
	return ln, nil
}

// Serve serves on ln until ctx is done, then shuts down gracefully (waiting at most 5 seconds).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		// Requests in flight get a short grace; connections that never sent a request (the AWS SDK opens
		// spare ones) would otherwise hold Shutdown for 5 s, so whatever is left after the grace is closed.
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err := hs.Shutdown(sctx)
		if errors.Is(err, context.DeadlineExceeded) {
			err = hs.Close()
		}
		<-done
		return err
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"__type":"KMSInternalException","message":"encoding failed"}`)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", newKeyID())
	w.WriteHeader(status)
	w.Write(b)
}

func writeError(w http.ResponseWriter, e *kmssigner.APIError) {
	w.Header().Set("X-Amzn-Errortype", e.Code)
	writeJSON(w, httpStatus(e.Code), struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.Code, e.Message})
}

// ServeHTTP handles one KMS request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, apiErr(CodeUnknownOperation, "only POST is supported"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodySize))
	if err != nil {
		writeError(w, apiErr(CodeValidation, "request body too large or unreadable"))
		return
	}
	caller := "anonymous"
	if !s.opts.AllowUnauthenticatedUnsafe {
		akid, aerr := s.authenticate(r, body)
		if aerr != nil {
			writeError(w, aerr)
			return
		}
		caller = akid
	}
	op, aerr := operationOf(r.Header.Get("X-Amz-Target"), r.Header.Get("Content-Type"))
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	if op == "PkikitExportKey" && !s.opts.AllowExportKeyUnsafe {
		writeError(w, apiErr(CodeUnknownOperation, "PkikitExportKey is not enabled on this server"))
		return
	}
	ctx := WithCaller(r.Context(), caller)
	if a, ok := parseAttempt(r.Header.Get("Amz-Sdk-Request")); ok {
		ctx = withAttempt(ctx, a)
	}
	out, err := s.dispatch(ctx, op, body)
	if err != nil {
		var ae *kmssigner.APIError
		switch {
		case errors.As(err, &ae):
			writeError(w, ae)
		case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			writeError(w, apiErr(CodeDependencyTimeout, "request cancelled"))
		default:
			writeError(w, apiErr(CodeInternal, "internal error"))
		}
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// operationOf checks the protocol headers and returns the operation name.
func operationOf(target, contentType string) (string, *kmssigner.APIError) {
	op, ok := strings.CutPrefix(target, "TrentService.")
	if !ok || op == "" {
		return "", apiErr(CodeUnknownOperation, "missing or unknown X-Amz-Target")
	}
	if ct, _, _ := strings.Cut(contentType, ";"); strings.TrimSpace(ct) != "application/x-amz-json-1.1" {
		return "", apiErr(CodeSerialization, "Content-Type must be application/x-amz-json-1.1")
	}
	return op, nil
}

func parseAttempt(h string) (int, bool) {
	for _, part := range strings.Split(h, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "attempt="); ok {
			n, err := strconv.Atoi(v)
			return n, err == nil && n > 0
		}
	}
	return 0, false
}

// decodeRequest decodes the JSON body of op into its input shape. An empty body is an empty object.
func decodeRequest(op string, body []byte) (any, *kmssigner.APIError) {
	var in any
	switch op {
	case "CreateKey":
		in = &CreateKeyInput{}
	case "CreateAlias":
		in = &CreateAliasInput{}
	case "ListKeys":
		in = &ListKeysInput{}
	case "ListAliases":
		in = &ListAliasesInput{}
	case "DescribeKey":
		in = &DescribeKeyInput{}
	case "GetPublicKey":
		in = &GetPublicKeyInput{}
	case "Sign":
		in = &SignInput{}
	case "Verify":
		in = &VerifyInput{}
	case "ScheduleKeyDeletion":
		in = &ScheduleKeyDeletionInput{}
	case "PkikitSetCertificateChain":
		in = &SetCertificateChainInput{}
	case "PkikitExportKey":
		in = &ExportKeyInput{}
	default:
		return nil, apiErr(CodeUnknownOperation, "operation "+quoteRef(op)+" is not supported")
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return in, nil
	}
	if err := json.Unmarshal(body, in); err != nil {
		return nil, apiErr(CodeSerialization, "malformed request body")
	}
	return in, nil
}

func (s *Server) dispatch(ctx context.Context, op string, body []byte) (any, error) {
	in, aerr := decodeRequest(op, body)
	if aerr != nil {
		return nil, aerr
	}
	k := s.kms
	switch in := in.(type) {
	case *CreateKeyInput:
		return k.CreateKey(ctx, in)
	case *CreateAliasInput:
		return k.CreateAlias(ctx, in)
	case *ListKeysInput:
		return k.ListKeys(ctx, in)
	case *ListAliasesInput:
		return k.ListAliases(ctx, in)
	case *DescribeKeyInput:
		return k.DescribeKey(ctx, in)
	case *GetPublicKeyInput:
		return k.getPublicKey(ctx, in)
	case *SignInput:
		if in.DryRun {
			return nil, apiErr(CodeDryRun, "The request would have succeeded, but the DryRun option is set.")
		}
		sig, arn, err := k.sign(ctx, &kmssigner.SignRequest{KeyID: in.KeyId, Message: in.Message, MessageType: in.MessageType, SigningAlgorithm: in.SigningAlgorithm})
		if err != nil {
			return nil, err
		}
		return &SignOutput{KeyId: arn, Signature: sig, SigningAlgorithm: in.SigningAlgorithm}, nil
	case *VerifyInput:
		return k.Verify(ctx, in)
	case *ScheduleKeyDeletionInput:
		return k.ScheduleKeyDeletion(ctx, in)
	case *SetCertificateChainInput:
		return k.SetCertificateChain(ctx, in)
	case *ExportKeyInput:
		return k.ExportKey(ctx, in)
	}
	return nil, apiErr(CodeUnknownOperation, "operation not supported")
}

// sigV4Auth is a parsed "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." header.
type sigV4Auth struct {
	AccessKeyID   string
	Date          string // yyyymmdd
	Region        string
	Service       string
	SignedHeaders []string
	Signature     []byte
}

func parseAuthorization(h string) (*sigV4Auth, *kmssigner.APIError) {
	incomplete := func(msg string) (*sigV4Auth, *kmssigner.APIError) {
		return nil, apiErr(CodeIncompleteSignature, msg)
	}
	rest, ok := strings.CutPrefix(h, "AWS4-HMAC-SHA256 ")
	if !ok {
		return incomplete("Authorization header must use AWS4-HMAC-SHA256")
	}
	var a sigV4Auth
	seen := map[string]bool{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || seen[k] {
			return incomplete("malformed Authorization header")
		}
		seen[k] = true
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" || f[0] == "" || len(f[1]) != 8 {
				return incomplete("malformed Credential")
			}
			a.AccessKeyID, a.Date, a.Region, a.Service = f[0], f[1], f[2], f[3]
		case "SignedHeaders":
			a.SignedHeaders = strings.Split(v, ";")
			if !sort.StringsAreSorted(a.SignedHeaders) {
				return incomplete("SignedHeaders must be sorted")
			}
			for _, n := range a.SignedHeaders {
				if n == "" || n != strings.ToLower(n) {
					return incomplete("malformed SignedHeaders")
				}
			}
		case "Signature":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return incomplete("malformed Signature")
			}
			a.Signature = sig
		default:
			return incomplete("unexpected Authorization field")
		}
	}
	if a.AccessKeyID == "" || a.SignedHeaders == nil || a.Signature == nil {
		return incomplete("Authorization header needs Credential, SignedHeaders and Signature")
	}
	return &a, nil
}

// authenticate checks the request's AWS Signature Version 4 against the configured credentials.
func (s *Server) authenticate(r *http.Request, body []byte) (string, *kmssigner.APIError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", apiErr(CodeMissingAuthToken, "Missing Authentication Token")
	}
	a, aerr := parseAuthorization(h)
	if aerr != nil {
		return "", aerr
	}
	secret, ok := s.creds[a.AccessKeyID]
	if !ok {
		return "", apiErr(CodeUnrecognizedClient, "The security token included in the request is invalid.")
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil || amzDate[:8] != a.Date {
		return "", apiErr(CodeIncompleteSignature, "X-Amz-Date missing or inconsistent with the credential scope")
	}
	if d := s.kms.now().Sub(t); d > s.opts.MaxClockSkew || d < -s.opts.MaxClockSkew {
		return "", apiErr(CodeInvalidSignatureRequest, "Signature expired: request time is too far from the server's time")
	}
	if a.Service != "kms" || a.Region != s.kms.region {
		return "", apiErr(CodeInvalidSignatureRequest, "Credential should be scoped to region "+s.kms.region+" and service kms")
	}
	for _, need := range []string{"host", "x-amz-date", "x-amz-target"} {
		if !contains(a.SignedHeaders, need) {
			return "", apiErr(CodeInvalidSignatureRequest, "SignedHeaders must include "+need)
		}
	}
	want := signV4(secret, a, amzDate, canonicalRequest(r, a.SignedHeaders, body))
	if !hmac.Equal(want, a.Signature) {
		return "", apiErr(CodeInvalidSignatureRequest, "The request signature we calculated does not match the signature you provided.")
	}
	return a.AccessKeyID, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func canonicalRequest(r *http.Request, signed []string, body []byte) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	b.WriteString(path)
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.Query()))
	b.WriteByte('\n')
	for _, name := range signed {
		var vals []string
		switch name {
		case "host":
			vals = []string{r.Host}
		case "content-length":
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		default:
			vals = append([]string(nil), r.Header.Values(name)...)
		}
		for i, v := range vals {
			vals[i] = strings.Join(strings.Fields(v), " ")
		}
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(strings.Join(vals, ","))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	sum := sha256.Sum256(body)
	b.WriteString(hex.EncodeToString(sum[:]))
	return b.String()
}

func canonicalQuery(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	esc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			parts = append(parts, esc(k)+"="+esc(v))
		}
	}
	return strings.Join(parts, "&")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func signV4(secret string, a *sigV4Auth, amzDate, canonical string) []byte {
	scope := a.Date + "/" + a.Region + "/" + a.Service + "/aws4_request"
	sum := sha256.Sum256([]byte(canonical))
	sts := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	kDate := hmacSHA256([]byte("AWS4"+secret), a.Date)
	kRegion := hmacSHA256(kDate, a.Region)
	kService := hmacSHA256(kRegion, a.Service)
	kSigning := hmacSHA256(kService, "aws4_request")
	return hmacSHA256(kSigning, sts)
}
