package voting

// VerifyBallotBatch verifies ballots as [Election.VerifyBallots] does,
// but as one batch — one multi-scalar multiplication for all of them —
// on the calling goroutine, for a caller that spreads batches over cores
// itself, such as the election record's verifier. Bigger batches cost
// less per ballot (Pippenger's method, msm.go) until a batch fails: then
// each of its ballots is verified alone to name the bad ones.
func (e *Election) VerifyBallotBatch(ballots []*Ballot) []error {
	errs := make([]error, len(ballots))
	e.verifyBatch(ballots, errs)
	return errs
}
