package totp

import (
	"bytes"
	"image/color"
	"image/png"
	"net/url"
	"strings"
	"testing"

	"github.com/pquerna/otp"
)

func TestURI(t *testing.T) {
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	for _, tc := range []struct {
		issuer, account, want string
	}{
		{"veche", "ivan@example.org",
			"otpauth://totp/veche:ivan@example.org?secret=" + secret + "&issuer=veche&algorithm=SHA1&digits=6&period=30"},
		{"Veche of Novgorod", "Ivan Petrov",
			"otpauth://totp/Veche%20of%20Novgorod:Ivan%20Petrov?secret=" + secret + "&issuer=Veche%20of%20Novgorod&algorithm=SHA1&digits=6&period=30"},
		{"a:b&c=d?e#f/g+h%", "x:y",
			"otpauth://totp/a%3Ab%26c%3Dd%3Fe%23f%2Fg%2Bh%25:x%3Ay?secret=" + secret + "&issuer=a%3Ab%26c%3Dd%3Fe%23f%2Fg%2Bh%25&algorithm=SHA1&digits=6&period=30"},
		{"Вече", "иван",
			"otpauth://totp/%D0%92%D0%B5%D1%87%D0%B5:%D0%B8%D0%B2%D0%B0%D0%BD?secret=" + secret + "&issuer=%D0%92%D0%B5%D1%87%D0%B5&algorithm=SHA1&digits=6&period=30"},
		{"", "ivan@example.org",
			"otpauth://totp/ivan@example.org?secret=" + secret + "&algorithm=SHA1&digits=6&period=30"},
	} {
		got := URI(secret, tc.issuer, tc.account)
		if got != tc.want {
			t.Errorf("URI(%q, %q)\n got %s\nwant %s", tc.issuer, tc.account, got, tc.want)
			continue
		}
		// What an app parses back is what went in.
		u, err := url.Parse(got)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if q.Get("secret") != secret || q.Get("issuer") != tc.issuer || q.Get("digits") != "6" || q.Get("period") != "30" || q.Get("algorithm") != "SHA1" {
			t.Errorf("query parses as %v", q)
		}
		wantLabel := "/" + tc.account
		if tc.issuer != "" {
			wantLabel = "/" + tc.issuer + ":" + tc.account
		}
		if u.Path != wantLabel {
			t.Errorf("label parses as %q, want %q", u.Path, wantLabel)
		}
		key, err := otp.NewKeyFromURL(got)
		if err != nil || key.Secret() != secret || key.Issuer() != tc.issuer || key.Period() != 30 || key.Digits() != otp.DigitsSix {
			t.Errorf("pquerna/otp reads %+v, %v", key, err)
		}
	}
}

func TestQRCodePNGDecodesAsAPNGOfTheRequestedSize(t *testing.T) {
	secret, _ := GenerateSecret()
	uri := URI(secret, "Veche of Novgorod", "ivan.petrov@example.org")
	data, err := QRCodePNG(uri, 256)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 256 || b.Dy() != 256 {
		t.Fatalf("image is %v, want 256×256", b)
	}
	// The code is drawn in whole-pixel modules inside a light margin of
	// at least four modules: find the dark bounding box and the module
	// size from the top-left finder pattern's seven-module edge.
	minX, minY, maxX := 256, 256, -1
	for y := range 256 {
		for x := range 256 {
			if isDark(img.At(x, y)) {
				minX, minY, maxX = min(minX, x), min(minY, y), max(maxX, x)
			}
		}
	}
	if maxX < 0 {
		t.Fatal("no dark module")
	}
	edge := 0
	for x := minX; x < 256 && isDark(img.At(x, minY)); x++ {
		edge++
	}
	if edge%7 != 0 {
		t.Fatalf("finder pattern edge %d px is not 7 whole modules", edge)
	}
	module := edge / 7
	if minX < 4*module || minY < 4*module || 255-maxX < 4*module {
		t.Fatalf("quiet zone narrower than 4 modules of %d px: code spans x %d..%d, y from %d", module, minX, maxX, minY)
	}
}

func isDark(c color.Color) bool {
	return color.GrayModel.Convert(c).(color.Gray).Y < 128
}

func TestQRCodePNGRefusesASizeTooSmallForTheURI(t *testing.T) {
	long := URI("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", strings.Repeat("Veche of Novgorod ", 10), strings.Repeat("ivan.petrov@example.org ", 10))
	if _, err := QRCodePNG(long, 64); err == nil {
		t.Fatal("a 64-pixel image of a long URI was accepted")
	}
}

func TestQRCodePNGRefusesUnreasonableSizes(t *testing.T) {
	uri := URI("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "veche", "ivan")
	for _, size := range []int{-1, 0, 63, 1025, 1 << 20} {
		if _, err := QRCodePNG(uri, size); err == nil {
			t.Errorf("size %d accepted", size)
		}
	}
}
