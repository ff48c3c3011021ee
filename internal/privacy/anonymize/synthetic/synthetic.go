// Package synthetic makes fake residents' microdata for testing and
// benchmarking the anonymisation, and for trying the k-anonymous export
// end to end. Nothing in it is real: names and numbers are drawn from a
// seeded generator; only the district and region names are real places
// of Belarus, so the hierarchy looks like one a public body would use.
package synthetic

import (
	"fmt"
	"math/rand/v2"

	"github.com/veche/veche/internal/privacy/anonymize"
)

// Regions lists the regions of the Belarus hierarchy and their districts.
var Regions = []struct {
	Name      string
	Districts []string
}{
	{"Brest Region", []string{"Baranavichy", "Brest", "Kobryn", "Luninets", "Pinsk", "Pruzhany", "Byaroza"}},
	{"Vitebsk Region", []string{"Vitebsk", "Orsha", "Polotsk", "Novopolotsk", "Pastavy", "Hlybokaye"}},
	{"Gomel Region", []string{"Gomel", "Mazyr", "Zhlobin", "Svetlahorsk", "Rechytsa", "Kalinkavichy"}},
	{"Grodno Region", []string{"Grodno", "Lida", "Slonim", "Vawkavysk", "Smarhon", "Ashmyany"}},
	{"Minsk Region", []string{"Barysaw", "Salihorsk", "Maladzyechna", "Zhodzina", "Slutsk", "Dzyarzhynsk", "Vileyka"}},
	{"Mogilev Region", []string{"Mogilev", "Babruysk", "Asipovichy", "Horki", "Krychaw"}},
	{"Minsk City", []string{"Tsentralny", "Savetski", "Pershamaiski", "Partyzanski", "Zavodski", "Leninski", "Kastrychnitski", "Maskowski", "Frunzenski"}},
}

// Topics are the values of the sensitive column.
var Topics = []string{"housing", "transport", "health", "schools", "environment", "safety",
	"culture", "sport", "budget", "roads", "parks", "social care"}

// Genders are the values of the gender column.
var Genders = []string{"female", "male", "undisclosed"}

// Hierarchy returns country → region → district.
func Hierarchy() *anonymize.Hierarchy {
	h, _ := anonymize.NewHierarchy("Belarus")
	for _, r := range Regions {
		for _, d := range r.Districts {
			if err := h.Add(r.Name, d); err != nil {
				panic(err)
			}
		}
	}
	h.Levels = []string{"country", "region", "district"}
	return h
}

// Fields are the residents table's columns: two direct identifiers, three
// quasi-identifiers and the sensitive topic of the resident's last
// petition.
var Fields = []anonymize.Field{
	{Name: "resident_id", Role: anonymize.DirectIdentifier},
	{Name: "full_name", Role: anonymize.DirectIdentifier},
	{Name: "birth_year", Role: anonymize.QuasiIdentifier},
	{Name: "district", Role: anonymize.QuasiIdentifier},
	{Name: "gender", Role: anonymize.QuasiIdentifier},
	{Name: "topic", Role: anonymize.Sensitive},
}

// QuasiIdentifiers configures the generalisation of the residents table.
func QuasiIdentifiers() []anonymize.Column {
	return []anonymize.Column{
		{Name: "birth_year", Kind: anonymize.Numeric},
		{Name: "district", Kind: anonymize.Categorical, Hierarchy: Hierarchy()},
		{Name: "gender", Kind: anonymize.Categorical},
	}
}

var firstNames = []string{"Alena", "Ivan", "Maryia", "Siarhei", "Volha", "Andrei", "Hanna", "Dzmitry", "Katsiaryna", "Pavel"}
var lastNames = []string{"Kavalenka", "Novik", "Shauchuk", "Kazlou", "Marozava", "Bondar", "Tkachuk", "Lukashevich"}

// Residents returns n fake residents drawn from a generator seeded with
// seed. Districts are unevenly populated, birth years cluster around
// 1975, and each region favours some topics, as real data would.
func Residents(n int, seed uint64) *anonymize.Table {
	rng := rand.New(rand.NewPCG(seed, 0x7665636865))
	t, err := anonymize.NewTable(Fields...)
	if err != nil {
		panic(err)
	}
	t.Grow(n)
	type place struct{ region, district int }
	var places []place
	var weights []float64
	total := 0.0
	for ri, r := range Regions {
		for di := range r.Districts {
			w := 1 + float64((ri*7+di*13)%10)
			if r.Name == "Minsk City" {
				w *= 3
			}
			places = append(places, place{ri, di})
			total += w
			weights = append(weights, total)
		}
	}
	years := make([]string, 2010-1920)
	for i := range years {
		years[i] = fmt.Sprint(1920 + i)
	}
	for i := range n {
		x := rng.Float64() * total
		p := 0
		for weights[p] < x {
			p++
		}
		pl := places[p]
		year := 1975 + int(rng.NormFloat64()*16)
		year = max(1920, min(2009, year))
		topic := rng.IntN(len(Topics))
		if rng.IntN(3) == 0 { // each region leans to two topics
			topic = (pl.region*2 + rng.IntN(2)) % len(Topics)
		}
		name := firstNames[rng.IntN(len(firstNames))] + " " + lastNames[rng.IntN(len(lastNames))]
		if err := t.Append(fmt.Sprintf("R%07d", i+1), name, years[year-1920],
			Regions[pl.region].Districts[pl.district], Genders[rng.IntN(len(Genders))], Topics[topic]); err != nil {
			panic(err)
		}
	}
	return t
}
