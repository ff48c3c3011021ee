package privacy_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/privacy"
)

// negated finds the Belarusian and Russian negation particle.
var negated = regexp.MustCompile(`(^|\s)не\s`)

// A rule that keeps data until an event and one that keeps it some days
// after the same event each read right: Belarusian and Russian say
// "until" with a negated verb, which must not follow "days after".
func TestRetentionWordingFitsItsKindOfRule(t *testing.T) {
	until := privacy.Retention{After: "account_erased", Action: privacy.Delete}
	after := privacy.Retention{After: "account_erased", Keep: 30 * 24 * time.Hour, Action: privacy.Delete}
	tests := []struct {
		lang i18n.Lang
		rule privacy.Retention
		want string
	}{
		{i18n.English, until, "Until your account is erased, then it is deleted."},
		{i18n.English, after, "For 30 days after your account is erased, then it is deleted."},
		{i18n.Belarusian, until, "Пакуль ваш уліковы запіс не будзе выдалены, потым даныя выдаляюцца."},
		{i18n.Belarusian, after, "Дзён пасля таго, як ваш уліковы запіс выдалены: 30; потым даныя выдаляюцца."},
		{i18n.Russian, until, "Пока ваша учётная запись не будет удалена, затем данные удаляются."},
		{i18n.Russian, after, "Дней после того, как ваша учётная запись удалена: 30; затем данные удаляются."},
	}
	for _, tt := range tests {
		t.Run(string(tt.lang)+"/"+tt.rule.Record().EventKey(), func(t *testing.T) {
			tr := func(key string, kv ...any) string { return i18n.T(tt.lang, key, kv...) }
			if got := tt.rule.Record().Words(tr); got != tt.want {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
	// Every rule of the registry, in every language, has its event in
	// the form its wording needs, and a "days after" sentence never
	// carries the negation that belongs to "until".
	for _, f := range privacy.Fields {
		r := f.Retention.Record()
		for _, lang := range i18n.Langs {
			tr := func(key string, kv ...any) string { return i18n.T(lang, key, kv...) }
			got := r.Words(tr)
			if strings.Contains(got, "privacy.") {
				t.Errorf("%s %s.%s: %q has an untranslated key", lang, f.Table, f.Column, got)
			}
			if r.Days > 0 && negated.MatchString(tr(r.EventKey())) {
				t.Errorf("%s %s.%s: %q: a negated event after \"days after\"", lang, f.Table, f.Column, got)
			}
		}
	}
}
