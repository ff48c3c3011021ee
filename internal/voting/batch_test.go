package voting

import (
	"errors"
	"testing"
)

func TestBatchOfValidBallotsPassesAndOneBadBallotIsNamed(t *testing.T) {
	f := newFixture(t, "batch")
	var ballots []*Ballot
	var creds []*Credential
	for i := 0; i < 40; i++ {
		cred := f.credential(t)
		creds = append(creds, cred)
		ballots = append(ballots, f.ballot(t, cred, tallyChoices[i%len(tallyChoices)]))
	}
	if n := len(ballots) * 68; n < pippengerMin {
		t.Fatalf("%d points: the batch would not use Pippenger's method", n)
	}
	// One batch of 40, which is below batchSize: one multi-scalar
	// multiplication, by Pippenger's method.
	if f.election.batchSize() < len(ballots) {
		t.Fatalf("batch size %d", f.election.batchSize())
	}
	errs := make([]error, len(ballots))
	bt, _ := newBatch(f.election.key.k.e, 1)
	for _, b := range ballots {
		chk, err := f.election.prepare(b, true)
		if err != nil {
			t.Fatal(err)
		}
		bt.addBallot(chk, f.election)
	}
	if !bt.check() {
		t.Fatal("a batch of valid ballots fails")
	}
	for i, err := range f.election.VerifyBallots(ballots) {
		if err != nil {
			t.Errorf("ballot %d: %v", i, err)
		}
	}
	// One bad response among 40: the batch fails and names only it.
	bad := cloneBallot(t, ballots[17])
	bad.contests[1].options[2].proof.responses[1] = plusOne(bad.contests[1].options[2].proof.responses[1])
	resign(t, f, bad, creds[17])
	ballots[17] = bad
	f.election.verifyBatch(ballots, errs)
	for i, err := range errs {
		var pe *ProofError
		switch {
		case i == 17 && (!errors.As(err, &pe) || pe.Contest != "council" || pe.Option != "p3"):
			t.Errorf("the bad ballot: %v", err)
		case i != 17 && err != nil:
			t.Errorf("ballot %d: %v", i, err)
		}
	}
}

func TestBatchSizeFollowsTheBallotShape(t *testing.T) {
	small := newFixture(t, "size").election
	if got := small.batchSize(); got != batchPoints/68 {
		t.Errorf("68-point ballots: batch of %d", got)
	}
	m := testManifest()
	m.Contests = m.Contests[:1]
	m.Contests[0].Options = m.Contests[0].Options[:2]
	tiny, _ := NewElection(m, small.Key())
	if got := tiny.batchSize(); got != 1024 {
		t.Errorf("16-point ballots: batch of %d, want the maximum 1024", got)
	}
}
