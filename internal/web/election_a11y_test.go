package web

// The election pages in the accessibility sweep (a11y_test.go): a draft,
// and an election taken all the way to its published result.

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/veche/veche/internal/election"
	"github.com/veche/veche/internal/election/electiontest"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/voting"
	"github.com/veche/veche/internal/voting/dkg"
)

func init() {
	notHTML["/elections/{id}/record.zip"] = "a zip download of the election record"
	a11yAreaVisits = append(a11yAreaVisits, func(fx *a11yFixture) map[string][]a11yVisit {
		d := fx.electionData()
		code := "0000000000"
		if d.code != "" {
			code = d.code
		}
		return map[string][]a11yVisit{
			"/elections/{id}":      {{fmt.Sprintf("/elections/%d", d.draft), 200}, {fmt.Sprintf("/elections/%d", d.published), 200}},
			"/elections/{id}/edit": {{fmt.Sprintf("/elections/%d/edit", d.draft), 200}},
			"/elections/{id}/credentials": {
				{fmt.Sprintf("/elections/%d/credentials", d.keyed), 200},
				{fmt.Sprintf("/elections/%d/credentials", d.draft), 409},
			},
			"/elections/{id}/ceremony": {{fmt.Sprintf("/elections/%d/ceremony", d.published), 200}},
			"/elections/{id}/results":  {{fmt.Sprintf("/elections/%d/results", d.published), 200}},
			"/elections/{id}/ballots": {
				{fmt.Sprintf("/elections/%d/ballots", d.published), 200},
				{fmt.Sprintf("/elections/%d/ballots?tracking_code=%s", d.published, code), 200},
				{fmt.Sprintf("/elections/%d/ballots?tracking_code=not-a-code", d.published), 422},
			},
		}
	})
}

// electionData are the elections the sweep visits: a draft, one whose
// key is fixed and awaits its credentials, and one published.
type electionData struct {
	draft, keyed, published int64
	code                    string // the tracking code of a ballot in the published election
}

var electionFixtures sync.Map // *a11yFixture -> *electionData

func (fx *a11yFixture) electionData() *electionData {
	if fx.e == nil { // the route check needs addresses only
		return &electionData{draft: 1, keyed: 2, published: 3}
	}
	if v, ok := electionFixtures.Load(fx); ok {
		return v.(*electionData)
	}
	t, e := fx.t, fx.e
	ctx := context.Background()
	el := election.New(e.part)
	officer := newRoleHolder(e, identity.RoleElectionOfficer, 7).id
	var trustees []int64
	for i := range 3 {
		trustees = append(trustees, e.createUser(fmt.Sprintf("a11y-trustee-%d@example.org", i), identity.RoleTrustee))
	}
	now := e.clock()
	p, err := e.part.CreateProcess(ctx, officer, participation.ProcessInput{Title: "River park",
		Phases: []participation.PhaseInput{{Name: "Vote", Starts: now.Add(-2 * time.Hour), Ends: now.Add(24 * time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}
	in := election.Input{Title: "Referendum on the river park", Opens: now.Add(-time.Hour), Closes: now.Add(2 * time.Hour), Trustees: trustees, Threshold: 2,
		Contests: []election.ContestInput{
			{Title: "Which park first?", Kind: voting.ChooseOne, Options: []string{"North", "South", "River"}},
			{Title: "Which improvements?", Kind: voting.ChooseUpTo, Min: 0, Max: 2, Options: []string{"Benches", "Lights", "Paths"}},
			{Title: "Benches everywhere?", Kind: voting.YesNo, Min: 1, Options: []string{"Yes", "No"}},
		}}
	d := &electionData{}
	draft, err := el.Create(ctx, officer, p.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	d.draft = draft.ID
	// keyed makes an election and runs its key ceremony.
	keyed := func() (*election.Election, []*dkg.KeyShare) {
		e, err := el.Create(ctx, officer, p.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := el.StartCeremony(ctx, officer, e.ID); err != nil {
			t.Fatal(err)
		}
		keys := electiontest.RunCeremony(t, 3, electiontest.Relay{
			Post: func(i uint32, body []byte) error {
				_, err := el.PostMessage(ctx, trustees[i-1], e.ID, body)
				return err
			},
			Files: func(i uint32) map[string][]byte {
				files, err := el.CeremonyFiles(ctx, e.ID, trustees[i-1])
				if err != nil {
					t.Fatal(err)
				}
				return files
			},
		})
		return e, keys
	}
	waiting, _ := keyed()
	d.keyed = waiting.ID
	pub, keys := keyed()
	d.published = pub.ID
	ca := e.createUser("a11y-authority@example.org", identity.RoleCredentialAuthority)
	cred, err := voting.NewCredential(pub.ManifestID, nil)
	if err != nil {
		t.Fatal(err)
	}
	list := []string{cred.Public().String()}
	if _, err := el.AddCredentials(ctx, ca, pub.ID, election.CredentialList{Credentials: list}); err != nil {
		t.Fatal(err)
	}
	if _, err := el.PublishCredentials(ctx, ca, pub.ID, 1, election.CredentialsDigest(list)); err != nil {
		t.Fatal(err)
	}
	if pub, err = el.Open(ctx, officer, pub.ID); err != nil {
		t.Fatal(err)
	}
	ve, err := pub.Voting()
	if err != nil {
		t.Fatal(err)
	}
	pending, err := ve.Encrypt(cred, voting.Choices{"c1": {"o3"}, "c2": {"o1", "o2"}, "c3": {"o1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pending.Cast()
	body, _ := b.MarshalJSON()
	rc, err := el.Cast(ctx, fx.citizen, pub.ID, body)
	if err != nil {
		t.Fatal(err)
	}
	d.code = rc.TrackingCode
	if _, err := el.Close(ctx, officer, pub.ID); err != nil {
		t.Fatal(err)
	}
	if pub, err = el.Tally(ctx, officer, pub.ID); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{1, 2} {
		if _, err := el.PostDecryption(ctx, trustees[i-1], pub.ID, electiontest.PartialDecrypt(t, pub.ManifestJSON, keys[i], pub.TallyJSON)); err != nil {
			t.Fatal(err)
		}
	}
	electionFixtures.Store(fx, d)
	return d
}
