package totp

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strconv"
	"strings"

	"github.com/boombuler/barcode/qr"
)

// URI returns the otpauth:// URI that enrols secret in an authenticator
// app, in the Key Uri Format:
//
//	otpauth://totp/Issuer:account?secret=…&issuer=Issuer&algorithm=SHA1&digits=6&period=30
//
// Issuer and account are percent-encoded (a space as %20, which every app
// reads, never '+'); a colon inside either is encoded too, so the label's
// one literal colon separates them. With an empty issuer the label is the
// account alone and the issuer parameter is left out.
func URI(secret, issuer, account string) string {
	var b strings.Builder
	b.WriteString("otpauth://totp/")
	if issuer != "" {
		b.WriteString(escape(issuer))
		b.WriteByte(':')
	}
	b.WriteString(escape(account))
	b.WriteString("?secret=")
	b.WriteString(escape(secret))
	if issuer != "" {
		b.WriteString("&issuer=")
		b.WriteString(escape(issuer))
	}
	b.WriteString("&algorithm=SHA1&digits=")
	b.WriteString(strconv.Itoa(Digits))
	b.WriteString("&period=")
	b.WriteString(strconv.Itoa(Period))
	return b.String()
}

// escape percent-encodes all but RFC 3986's unreserved characters and
// '@', which apps show as it is in e-mail addresses.
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '@' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// Bounds on the QR code image's side in pixels: big enough for a
// 160-bit secret's URI to be scanned, small enough that a request cannot
// make the server draw a huge image.
const (
	minQRSize = 64
	maxQRSize = 1024
)

// quietZone is the light margin around a QR code, in modules, that
// ISO/IEC 18004 requires for reliable scanning.
const quietZone = 4

// QRCodePNG draws uri as a size×size grey-scale PNG QR code (error
// correction level M), with whole-pixel modules and a four-module light
// margin, for the enrolment page. Size must be between 64 and 1024 pixels
// and leave at least one pixel per module.
func QRCodePNG(uri string, size int) ([]byte, error) {
	if size < minQRSize || size > maxQRSize {
		return nil, fmt.Errorf("totp: QR code size %d not between %d and %d pixels", size, minQRSize, maxQRSize)
	}
	code, err := qr.Encode(uri, qr.M, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("totp: encoding QR code: %w", err)
	}
	n := code.Bounds().Dx()
	module := size / (n + 2*quietZone)
	if module < 1 {
		return nil, fmt.Errorf("totp: QR code needs at least %d pixels, not %d", n+2*quietZone, size)
	}
	img := image.NewGray(image.Rect(0, 0, size, size))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	offset := (size - n*module) / 2
	origin := code.Bounds().Min
	for y := range n {
		for x := range n {
			if color.GrayModel.Convert(code.At(origin.X+x, origin.Y+y)).(color.Gray).Y >= 128 {
				continue
			}
			r := image.Rect(offset+x*module, offset+y*module, offset+(x+1)*module, offset+(y+1)*module)
			draw.Draw(img, r, image.Black, image.Point{}, draw.Src)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
