// Package dp releases counts and sums with differential privacy and keeps
// each published dataset's privacy budget.
//
// # Mechanisms
//
// Noise is integer-valued and sampled exactly, following
//
//	Clément L. Canonne, Gautam Kamath, Thomas Steinke.
//	"The Discrete Gaussian for Differential Privacy". NeurIPS 2020.
//	https://arxiv.org/abs/2004.00010
//
// Algorithm 1 of the paper samples Bernoulli(exp(-γ)) for a rational γ
// using only uniform integers and rational comparisons; Algorithm 2 builds
// the discrete Laplace distribution on it, and Algorithm 3 the discrete
// Gaussian by rejection from the discrete Laplace. This package implements
// the three algorithms as written, with math/big for every quantity, so no
// floating-point number is ever involved in sampling: there are none of the
// floating-point attacks on textbook Laplace noise (Mironov, CCS 2012).
// All randomness comes from crypto/rand; tests inject a deterministic
// source through an unexported hook to check the distributions.
//
// # Accounting
//
// [Laplace] with scale Δ/ε (Δ the L1 sensitivity of the released vector of
// integers) is ε-differentially private ("pure" DP).
//
// [Gaussian] with variance σ² is ρ-zero-concentrated DP (zCDP) with
// ρ = Δ²/(2σ²), Δ the L2 sensitivity (the paper's Theorem 4). zCDP composes
// by adding ρ. ρ-zCDP implies (ε, δ)-DP for every δ > 0 with
//
//	ε = ρ + 2·sqrt(ρ·ln(1/δ))
//
// (Bun and Steinke, TCC 2016, Proposition 1.3; the paper's Corollary 13
// gives a slightly tighter bound that this package does not use). The
// budget kept by [Ledger] is in (ε, δ): a Gaussian release is charged this ε,
// rounded up to a multiple of 10⁻⁹, and its δ; a Laplace release is charged
// its ε and no δ. Charges add up (basic composition).
//
// # Budget
//
// [Ledger] keeps one row per dataset in the table dp_budgets, with every
// amount an exact rational stored as text. [Ledger.Spend] checks and charges
// in one transaction, together with the caller's own writes (an audit
// entry); when a charge does not fit, it returns a [*BudgetExhaustedError]
// (errors.Is [ErrBudgetExhausted]) and nothing is charged. Every charge
// is also a row of dp_releases: a [Release] with a random ID, its dataset,
// mechanism, ε, δ, ρ for a Gaussian release, and time.
//
// # The ledger across backups and restores
//
// Released statistics are public and cannot be recalled, so a restore
// must never forget a release: if it did, the budget of that release
// would be spent a second time. A data backup brings back the ledger as
// it was when the backup was made; the key backup (package backup)
// carries the whole ledger too, written by [Ledger.Export] and checked by
// [ReadLedger] (each release's [Release.Digest] over its fields, one
// budget per dataset, no budget spent less than its releases add up to).
// [Ledger.Merge] unites the releases by ID; each budget is then spent at
// least what the database and the merged ledger each said, never less.
//
// Restoring a data backup places a [Hold] ([PlaceHold]): the releases
// made after the backup cannot be known from it, so [Ledger.Spend] and
// [Ledger.Check] refuse every charge with a [*LedgerHeldError]
// (errors.Is [ErrLedgerHeld]) until a merged ledger is complete up to a
// time after the backup's — a key backup made after the data backup on
// an instance not itself on hold — or an operator confirms with
// [Ledger.Confirm] that no release is missing. docs/backup.md describes
// the procedure.
package dp
