package cms

// A small, bounded BER → DER normaliser. Other CMS producers (Bouncy Castle, Java, Windows, OpenSSL with
// -stream) write BER: indefinite lengths, constructed OCTET STRINGs split into chunks, long-form lengths that
// are not minimal. normalizeBER rewrites such input as DER: every length definite and minimal, and every
// constructed OCTET STRING or character string flattened into one primitive string. It does not re-sort SET OF
// elements (CMS signatures cover the signed attributes as their producer encoded them). Work is linear in the
// input and bounded by a nesting depth and an element count.

type berNode struct {
	tag      []byte // identifier octets
	content  []byte // primitive content (flattened strings included)
	children []*berNode
	prim     bool
	clen     int // DER content length
}

func (n *berNode) size() int { return len(n.tag) + lengthSize(n.clen) + n.clen }

type berParser struct {
	maxDepth    int
	maxElements int
	elements    int
}

// normalizeBER converts one BER element (nothing after it) to DER.
func normalizeBER(in []byte, maxDepth, maxElements int) ([]byte, error) {
	p := &berParser{maxDepth: maxDepth, maxElements: maxElements}
	n, rest, err := p.parse(in, 0)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, malformed("trailing data after the ContentInfo")
	}
	return n.write(make([]byte, 0, n.size())), nil
}

func (n *berNode) write(b []byte) []byte {
	b = append(b, n.tag...)
	b = appendLength(b, n.clen)
	if n.prim {
		return append(b, n.content...)
	}
	for _, c := range n.children {
		b = c.write(b)
	}
	return b
}

// isStringTag reports whether a universal tag number is a string type BER may split (X.690 §8.21).
func isStringTag(num byte) bool {
	switch num {
	case 4, 12, 18, 19, 20, 21, 22, 25, 26, 27, 28, 30: // OCTET STRING and the character strings
		return true
	}
	return false
}

func (p *berParser) parse(in []byte, depth int) (*berNode, []byte, error) {
	if depth > p.maxDepth {
		return nil, nil, &Error{Op: "parse", Signer: -1, Reason: ErrTooLarge, Detail: "BER nesting deeper than MaxDepth"}
	}
	p.elements++
	if p.elements > p.maxElements {
		return nil, nil, &Error{Op: "parse", Signer: -1, Reason: ErrTooLarge, Detail: "more BER elements than allowed"}
	}
	if len(in) < 2 {
		return nil, nil, malformed("truncated BER element")
	}
	// Identifier octets.
	tagLen := 1
	if in[0]&0x1f == 0x1f {
		for {
			if tagLen >= len(in) || tagLen > 4 {
				return nil, nil, malformed("bad BER tag")
			}
			c := in[tagLen]
			tagLen++
			if c&0x80 == 0 {
				break
			}
		}
	}
	tag := in[:tagLen]
	constructed := in[0]&0x20 != 0
	rest := in[tagLen:]
	if len(rest) == 0 {
		return nil, nil, malformed("truncated BER length")
	}
	// Length octets.
	l0 := rest[0]
	rest = rest[1:]
	indefinite := false
	length := 0
	switch {
	case l0 == 0x80:
		if !constructed {
			return nil, nil, malformed("indefinite length on a primitive element")
		}
		indefinite = true
	case l0 < 0x80:
		length = int(l0)
	default:
		nb := int(l0 & 0x7f)
		if nb > 4 || nb > len(rest) {
			return nil, nil, malformed("bad BER length")
		}
		for _, c := range rest[:nb] {
			length = length<<8 | int(c)
		}
		rest = rest[nb:]
	}
	if !indefinite && length > len(rest) {
		return nil, nil, malformed("BER length beyond the input")
	}
	n := &berNode{tag: tag}
	if !constructed {
		n.prim = true
		n.content = rest[:length]
		n.clen = length
		return n, rest[length:], nil
	}
	var body []byte
	if indefinite {
		body = rest
	} else {
		body = rest[:length]
	}
	for {
		if indefinite {
			if len(body) < 2 {
				return nil, nil, malformed("missing end-of-contents")
			}
			if body[0] == 0 && body[1] == 0 {
				body = body[2:]
				break
			}
		} else if len(body) == 0 {
			break
		}
		c, r, err := p.parse(body, depth+1)
		if err != nil {
			return nil, nil, err
		}
		body = r
		n.children = append(n.children, c)
		n.clen += c.size()
	}
	if indefinite {
		rest = body
	} else {
		rest = rest[length:]
	}
	// Flatten constructed universal strings into one primitive string.
	if tag[0]&0xc0 == 0 && len(tag) == 1 && isStringTag(tag[0]&0x1f) {
		var flat []byte
		if err := flatten(n, tag[0]&0x1f, &flat); err != nil {
			return nil, nil, err
		}
		n = &berNode{tag: []byte{tag[0] &^ 0x20}, prim: true, content: flat, clen: len(flat)}
	}
	return n, rest, nil
}

// flatten concatenates the primitive segments of a constructed string; segments must carry the same universal
// tag (X.690 §8.21.5).
func flatten(n *berNode, num byte, out *[]byte) error {
	for _, c := range n.children {
		if len(c.tag) != 1 || c.tag[0]&0xdf != num {
			return malformed("constructed string segment of another type")
		}
		if c.prim {
			*out = append(*out, c.content...)
			continue
		}
		if err := flatten(c, num, out); err != nil {
			return err
		}
	}
	return nil
}
