package password

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

// testParams keeps tests fast; known-answer tests use their own.
var testParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Argon2id (version 0x13) vectors of the reference implementation's test
// suite (github.com/P-H-C/phc-winner-argon2, src/test.c): password
// "password" or "differentpassword", salt "somesalt", 32-byte output.
//
// RFC 9106 §5.3's Argon2id vector is not here: it uses a secret key and
// associated data, which golang.org/x/crypto/argon2 does not expose, and
// veche uses neither.
var referenceVectors = []struct {
	password string
	params   Params
	encoded  string
}{
	{"password", Params{Memory: 65536, Time: 2, Threads: 1, SaltLen: 8, KeyLen: 32},
		"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"},
	{"password", Params{Memory: 65536, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 32},
		"$argon2id$v=19$m=65536,t=1,p=1$c29tZXNhbHQ$9qWtwbpyPd3vm1rB1GThgPzZ3/ydHL92zKL+15XZypg"},
	{"password", Params{Memory: 65536, Time: 4, Threads: 1, SaltLen: 8, KeyLen: 32},
		"$argon2id$v=19$m=65536,t=4,p=1$c29tZXNhbHQ$kCXUjmjvc5XMqQedpMTsOv+zyJEf5PhtGiUghW9jFyw"},
	{"differentpassword", Params{Memory: 65536, Time: 2, Threads: 1, SaltLen: 8, KeyLen: 32},
		"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$C4TWUs9rDEvq7w3+J4umqA32aWKB1+DSiRuBfYxFj94"},
	{"password", Params{Memory: 256, Time: 2, Threads: 2, SaltLen: 8, KeyLen: 32},
		"$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc"},
}

func TestHashMatchesReferenceImplementationVectors(t *testing.T) {
	for _, v := range referenceVectors {
		t.Run(v.encoded, func(t *testing.T) {
			if got := hashWithSalt(v.params, v.password, []byte("somesalt")); got != v.encoded {
				t.Fatalf("hash = %s\nwant   %s", got, v.encoded)
			}
			h := NewHasher(v.params, 1)
			ok, rehash, err := h.Verify(context.Background(), v.password, v.encoded)
			if err != nil || !ok || rehash {
				t.Fatalf("Verify = %v, %v, %v; want true, false, nil", ok, rehash, err)
			}
		})
	}
}

// A regression vector at DefaultParams, computed with
// golang.org/x/crypto/argon2; it pins the encoding and the normalisation
// of an ASCII password.
func TestHashAtDefaultParamsKnownAnswer(t *testing.T) {
	const want = "$argon2id$v=19$m=19456,t=2,p=1$dmVjaGUta2F0LXNhbHQxNg$NdeOCcrrnVlM6hnZBrg8wHZ8F3spP/fbKLUWYNeHG4w"
	if got := hashWithSalt(DefaultParams, "correct horse battery staple", []byte("veche-kat-salt16")); got != want {
		t.Fatalf("hash = %s\nwant   %s", got, want)
	}
}

func TestHashThenVerifyRoundTrips(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(testParams, 0)
	for _, pw := range []string{"", "correct horse battery staple", "пароль для вече 2024", "emoji 🔐 inside", strings.Repeat("x", 1000)} {
		encoded, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(encoded, "$argon2id$v=19$m=64,t=1,p=1$") {
			t.Fatalf("encoded = %s", encoded)
		}
		ok, rehash, err := h.Verify(ctx, pw, encoded)
		if err != nil || !ok || rehash {
			t.Fatalf("Verify(%q) = %v, %v, %v; want true, false, nil", pw, ok, rehash, err)
		}
		ok, rehash, err = h.Verify(ctx, pw+"x", encoded)
		if err != nil || ok || rehash {
			t.Fatalf("Verify(wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
		}
	}
}

func TestHashUsesAFreshSaltEachTime(t *testing.T) {
	h := NewHasher(testParams, 0)
	a, _ := h.Hash(context.Background(), "same password twice")
	b, _ := h.Hash(context.Background(), "same password twice")
	if a == b {
		t.Fatal("two hashes of one password are equal; salt is not random")
	}
}

func TestVerifyAcceptsEitherUnicodeNormalForm(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(testParams, 0)
	composed := "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e"
	decomposed := "cafe\u0301 cre\u0300me bru\u0302le\u0301e"
	encoded, err := h.Hash(ctx, decomposed)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := h.Verify(ctx, composed, encoded); !ok || err != nil {
		t.Fatalf("Verify(NFC of NFD-hashed password) = %v, %v", ok, err)
	}
	if ok, _, err := h.Verify(ctx, "café\u00a0crème brûlée", encoded); !ok || err != nil {
		t.Fatalf("Verify(no-break space) = %v, %v", ok, err)
	}
}

func TestVerifyReportsNeedsRehashWhenParamsDiffer(t *testing.T) {
	ctx := context.Background()
	old := NewHasher(testParams, 0)
	encoded, err := old.Hash(ctx, "an old and long password")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Params{
		{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 32, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 64},
	} {
		h := NewHasher(p, 0)
		ok, rehash, err := h.Verify(ctx, "an old and long password", encoded)
		if err != nil || !ok || !rehash {
			t.Errorf("%+v: Verify = %v, %v, %v; want true, true, nil", p, ok, rehash, err)
		}
		ok, rehash, err = h.Verify(ctx, "a wrong password", encoded)
		if err != nil || ok || rehash {
			t.Errorf("%+v: Verify(wrong) = %v, %v, %v; want false, false, nil", p, ok, rehash, err)
		}
	}
}

func TestVerifyRejectsMalformedHashes(t *testing.T) {
	const salt, key = "c29tZXNhbHQ", "CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	h := NewHasher(testParams, 0)
	for _, encoded := range []string{
		"",
		"password",
		"$",
		"$argon2id",
		"$argon2id$v=19$m=64,t=1,p=1$" + salt,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$",
		"argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$",
		"$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
		"$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1,k=1$" + salt + "$" + key,
		"$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64 ,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=4294967296,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=1048577,t=1,p=1$" + salt + "$" + key, // 1 GiB + 1 KiB
		"$argon2id$v=19$m=64,t=17,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=256,t=1,p=17$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=256$" + salt + "$" + key,
		"$argon2id$v=19$m=15,t=1,p=2$" + salt + "$" + key,      // less than 8 KiB per lane
		"$argon2id$v=19$m=64,t=1,p=1$c29tZQ$" + key,            // 4-byte salt
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAAAAAAAAA", // 8-byte hash
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "=$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "=",
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNh\nbHQ$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHR$" + key, // non-zero trailing bits
		"$argon2id$v=19$m=64,t=1,p=1$c29t_XNhbHQ$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + strings.Repeat("A", 300) + "$" + key,
	} {
		ok, rehash, err := h.Verify(context.Background(), "password", encoded)
		if !errors.Is(err, ErrMalformedHash) || ok || rehash {
			t.Errorf("Verify(%q) = %v, %v, %v; want ErrMalformedHash", encoded, ok, rehash, err)
		}
	}
}

func TestHashAndVerifyReturnErrBusyWhenAllSlotsAreTaken(t *testing.T) {
	h := NewHasher(testParams, 1)
	encoded, err := h.Hash(context.Background(), "a password to check")
	if err != nil {
		t.Fatal(err)
	}
	h.slots <- struct{}{} // another sign-in holds the only slot

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "a password to check"); !errors.Is(err, ErrBusy) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Hash = %v; want ErrBusy wrapping DeadlineExceeded", err)
	}
	if _, _, err := h.Verify(ctx, "a password to check", encoded); !errors.Is(err, ErrBusy) {
		t.Errorf("Verify = %v; want ErrBusy", err)
	}
	if err := h.VerifyDummy(ctx, "a password to check"); !errors.Is(err, ErrBusy) {
		t.Errorf("VerifyDummy = %v; want ErrBusy", err)
	}

	// Once the slot is released, the waiting caller gets it.
	done := make(chan error, 1)
	go func() {
		_, _, err := h.Verify(context.Background(), "a password to check", encoded)
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	<-h.slots
	if err := <-done; err != nil {
		t.Fatalf("Verify after release = %v", err)
	}
}

func TestHashRefusesAnEndedContextEvenWithFreeSlots(t *testing.T) {
	h := NewHasher(testParams, 4)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "a password"); !errors.Is(err, ErrBusy) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash = %v; want ErrBusy wrapping Canceled", err)
	}
}

func TestHasherNeverRunsMoreThanMaxConcurrentHashes(t *testing.T) {
	h := NewHasher(testParams, 3)
	if cap(h.slots) != 3 {
		t.Fatalf("slots = %d, want 3", cap(h.slots))
	}
	if d := NewHasher(testParams, 0); cap(d.slots) != 2*runtime.GOMAXPROCS(0) {
		t.Fatalf("default slots = %d, want 2×GOMAXPROCS = %d", cap(d.slots), 2*runtime.GOMAXPROCS(0))
	}
	// Many callers at once all finish and leave every slot free.
	errs := make(chan error, 20)
	for range 20 {
		go func() {
			_, err := h.Hash(context.Background(), "concurrent password")
			errs <- err
		}()
	}
	for range 20 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if len(h.slots) != 0 {
		t.Fatalf("%d slots still held", len(h.slots))
	}
}

func TestVerifyDummyCostsWhatARealVerifyCostsAndNeverSucceeds(t *testing.T) {
	h := NewHasher(testParams, 0)
	p, salt, key, err := decodeHash(h.dummy)
	if err != nil {
		t.Fatalf("dummy hash does not decode: %v", err)
	}
	if p != h.Params() {
		t.Fatalf("dummy params = %+v, want the hasher's %+v", p, h.Params())
	}
	if len(salt) != int(p.SaltLen) || len(key) != int(p.KeyLen) {
		t.Fatal("dummy salt or hash has the wrong length")
	}
	if err := h.VerifyDummy(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := h.Verify(context.Background(), "", h.dummy); ok {
		t.Fatal("the empty password matches the dummy hash")
	}
}

func TestNewHasherTakesZeroParamsAsDefault(t *testing.T) {
	if got := NewHasher(Params{}, 1).Params(); got != DefaultParams {
		t.Fatalf("Params = %+v, want DefaultParams", got)
	}
}

func TestNewHasherPanicsOnInvalidParams(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("no panic")
		} else if err, _ := r.(error); !errors.Is(err, ErrInvalidParams) {
			t.Fatalf("panic = %v, want ErrInvalidParams", r)
		}
	}()
	NewHasher(Params{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
}

func TestParamsValidate(t *testing.T) {
	for _, tc := range []struct {
		p  Params
		ok bool
	}{
		{DefaultParams, true},
		{testParams, true},
		{Params{Memory: 1 << 20, Time: 16, Threads: 16, SaltLen: 64, KeyLen: 64}, true},
		{Params{Memory: 8, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16}, true},
		{Params{}, false},
		{Params{Memory: 1<<20 + 1, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, false},
		{Params{Memory: 19456, Time: 17, Threads: 1, SaltLen: 16, KeyLen: 32}, false},
		{Params{Memory: 19456, Time: 2, Threads: 17, SaltLen: 16, KeyLen: 32}, false},
		{Params{Memory: 7, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, false},
		{Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 7, KeyLen: 32}, false},
		{Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 15}, false},
		{Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 65}, false},
	} {
		if err := tc.p.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: Validate = %v, want ok=%v", tc.p, err, tc.ok)
		}
	}
}

// BenchmarkHash measures one hash at DefaultParams; B/op shows the memory
// cost each concurrent sign-in holds (about 19 MiB).
func BenchmarkHash(b *testing.B) {
	h := NewHasher(DefaultParams, 1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
