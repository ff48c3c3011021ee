// Package budget owns participatory budgets: a public body puts projects
// with costs before its citizens within a total budget, eligible people
// approve the projects they want as long as the approved projects together
// cost no more than the budget, and when the space closes the result is
// computed by two published rules and shown with an explanation for every
// project.
//
// # Voting
//
// A ballot is a set of approved projects whose total cost is at most the
// budget; the server refuses an over-budget ballot and stores nothing.
// Each person has at most one ballot per space: a unique key on (space,
// account) makes a double submit end in one ballot whatever the timing,
// and casting again replaces the ballot while the space's phase is open.
// A ballot can be withdrawn while the phase is open. Every act passes
// [participation.Service.Gate] in its own transaction (phase and
// eligibility now). Projects are written by officials and can be changed
// only before voting opens.
//
// Ballots are personal data (what a person supported). Counting the
// Method of Equal Shares needs each ballot's approvals, not only totals,
// so the approvals are kept in the clear, keyed by a ballot row that links
// to the account; erasing the account removes that link (ON DELETE SET
// NULL) and the anonymous ballot still counts, as a signature does.
//
// # Counting
//
// Both rules are computed from the same ballots and shown side by side.
//
// Greedy (the "utilitarian greedy" rule of most city budgets): projects
// are considered in order of approvals, most first, and each is funded if
// its cost fits in what is left of the budget; one that does not fit is
// skipped and the next considered. Projects nobody approved are not
// funded.
//
// Method of Equal Shares (MES): D. Peters and P. Skowron, "Proportionality
// and the Limits of Welfarism", EC 2020, and D. Peters, G. Pierczyński and
// P. Skowron, "Proportional Participatory Budgeting with Additive
// Utilities", NeurIPS 2021, as described at https://equalshares.net
// (the sections "Rule" and "Completion"). The budget is split into equal
// shares, one per voter. Approval ballots are read with cost utilities
// (a voter gains a project's cost from each approved project funded),
// which equalshares.net recommends for approval ballots. In each round,
// every project whose supporters together still hold at least its cost
// has a price: the smallest amount p such that, each supporter paying p or
// all they have left if less, the payments add up to the cost. With cost
// utilities the rule buys the project with the smallest p/cost (most
// supporters paying, for the uncapped case), the supporters pay, and the
// next round starts; it ends when no project is affordable. Because one
// equal share per voter often leaves money unspent, the completion step
// "add1" of equalshares.net is used: the share of every voter is raised
// step by step (one currency unit, or one hundredth of the starting
// share if that is larger, so that the number of runs stays bounded) and
// MES is run again, as long as the outcome is not exhaustive (an approved
// project still fits in the budget) and does not cost more than the real
// budget; the last outcome within the budget is kept. Finally, what is
// left is filled greedily by approvals (equalshares.net's last step), and
// projects funded that way are marked so.
//
// Ties: both rules prefer, among equally good projects (same approvals for
// greedy; same p/cost within a relative 1e-9 for MES), the one with the
// lower cost, then the one with the lower project number. Money in MES is
// computed in float64; amounts shown are rounded to cents.
//
// # Results
//
// When the space is closed (its phase has ended, or an official closed it
// early) the first request for results computes both rules, stores the
// result with a digest and writes an audit entry with that digest; later
// requests read the stored result, so the published result never changes.
// Results are public: a page with a table per rule, and CSV and JSON
// exports.
package budget
