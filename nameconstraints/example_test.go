package nameconstraints_test

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/pkikit/pkikit/nameconstraints"
)

func ExampleNew() {
	nc, err := nameconstraints.New(
		[]string{".example.com", "10.0.0.0/8", "email:.example.com", "dn:O=Example,C=US"},
		[]string{".prod.example.com"})
	if err != nil {
		panic(err)
	}
	ext, _ := nc.Extension()
	fmt.Println(ext.Id, "critical:", ext.Critical)
	fmt.Println(nc)
	// Output:
	// 2.5.29.30 critical: true
	// permitted: dns:.example.com, ip:10.0.0.0/8, email:.example.com, dn:O=Example,C=US; excluded: dns:.prod.example.com
}

func ExampleConstraints_CheckDNS() {
	nc, _ := nameconstraints.New([]string{"example.com"}, []string{".prod.example.com"})
	for _, name := range []string{"example.com", "www.example.com", "db.prod.example.com", "example.org"} {
		err := nc.CheckDNS(name)
		switch {
		case err == nil:
			fmt.Println(name, "ok")
		case errors.Is(err, nameconstraints.ErrExcluded):
			fmt.Println(name, "excluded")
		case errors.Is(err, nameconstraints.ErrNotPermitted):
			fmt.Println(name, "not permitted")
		}
	}
	// Output:
	// example.com ok
	// www.example.com ok
	// db.prod.example.com excluded
	// example.org not permitted
}

func ExampleConstraints_CheckIP() {
	nc, _ := nameconstraints.New([]string{"10.0.0.0/8"}, []string{"10.1.0.0/16"})
	var v *nameconstraints.ViolationError
	err := nc.CheckIP(netip.MustParseAddr("10.1.2.3"))
	if errors.As(err, &v) {
		fmt.Println("excluded by", v.Subtree)
	}
	fmt.Println(nc.CheckIP(netip.MustParseAddr("10.2.0.1")))
	// Output:
	// excluded by ip:10.1.0.0/16
	// <nil>
}

func ExampleConstraints_MarshalAPIPassthrough() {
	// The aws-samples encoder's example: python name-constraints-encoder.py
	//   -p .dev.example.com,.test.example.com -e .prod.dev.example.com
	nc, _ := nameconstraints.New([]string{".dev.example.com", ".test.example.com"}, []string{".prod.dev.example.com"})
	js, _ := nc.MarshalAPIPassthrough()
	fmt.Println(string(js))
	// Output:
	// {
	//     "Extensions": {
	//         "CustomExtensions": [
	//             {
	//                 "ObjectIdentifier": "2.5.29.30",
	//                 "Value": "MEagKTASghAuZGV2LmV4YW1wbGUuY29tMBOCES50ZXN0LmV4YW1wbGUuY29toRkwF4IVLnByb2QuZGV2LmV4YW1wbGUuY29t",
	//                 "Critical": true
	//             }
	//         ]
	//     }
	// }
}

func ExampleParseAPIPassthrough() {
	js := []byte(`{"Extensions":{"CustomExtensions":[{"ObjectIdentifier":"2.5.29.30",` +
		`"Value":"MEagKTASghAuZGV2LmV4YW1wbGUuY29tMBOCES50ZXN0LmV4YW1wbGUuY29toRkwF4IVLnByb2QuZGV2LmV4YW1wbGUuY29t","Critical":true}]}}`)
	nc, err := nameconstraints.ParseAPIPassthrough(js)
	if err != nil {
		panic(err)
	}
	fmt.Println(nc)
	fmt.Println(nc.CheckDNS("api.dev.example.com"), errors.Is(nc.CheckDNS("db.prod.dev.example.com"), nameconstraints.ErrExcluded))
	// Output:
	// permitted: dns:.dev.example.com, dns:.test.example.com; excluded: dns:.prod.dev.example.com
	// <nil> true
}

func ExampleParseSubtree() {
	for _, s := range []string{"example.com", ".example.com", "2001:db8::/32", "@example.com", "uri:.example.com",
		"dn:CN=Sub CA,O=Example,C=US"} {
		st, err := nameconstraints.ParseSubtree(s)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-28s %-26v %s\n", s, st.Form, st)
	}
	_, err := nameconstraints.ParseSubtree("10.0.0.1/8")
	fmt.Println(errors.Is(err, nameconstraints.ErrBadCIDR))
	// Output:
	// example.com                  dNSName                    dns:example.com
	// .example.com                 dNSName                    dns:.example.com
	// 2001:db8::/32                iPAddress                  ip:2001:db8::/32
	// @example.com                 rfc822Name                 email:@example.com
	// uri:.example.com             uniformResourceIdentifier  uri:.example.com
	// dn:CN=Sub CA,O=Example,C=US  directoryName              dn:CN=Sub CA,O=Example,C=US
	// true
}
