package privacy

// The declarations of the privacy-budget ledger's restore holds (package
// privacy/dp, migration 0023): one row per restore of the database, with
// the backup's time and how the hold on the privacy budgets was lifted.
// No row names a person. dp_budgets and dp_releases are declared in
// datamap.go.

// ledgerHoldsNotPersonal are the columns of dp_ledger_holds.
var ledgerHoldsNotPersonal = []NotPersonal{
	{"dp_ledger_holds", "*", "restores of this database and how each lifted its hold on the privacy budgets; names no one"},
}
