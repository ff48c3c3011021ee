// Package record owns the published record of one election: every file a
// third party needs to check the election without trusting the server,
// and the verifier that checks them ([Verify], used by
// `veche verify-election`). It is pure: it reads from an [io/fs.FS] and
// writes to a directory or a zip archive, and imports neither storage nor
// the web layer.
//
// # Layout
//
// A record is a directory, or a zip archive of the same files
// (docs/election-record.md, "Election record layout", is the reference):
//
//	election.json            the election id, manifest digest and joint public key
//	manifest.json            the manifest (voting.Manifest's JSON)
//	ceremony/                the key ceremony record, as dkg.ReadRecord reads it
//	credentials.txt          the public credentials, one element per line (hex)
//	ballots.jsonl            the ballot box: every accepted ballot in order of
//	                         casting, one per line:
//	                         {"log_index":N,"tracking_code":"…","ballot":{…}}
//	counted.json             the positions in ballots.jsonl (0-based, increasing)
//	                         of the ballots that count: the last of each credential
//	tally.json               the encrypted tally (voting.EncryptedTally's JSON)
//	decryptions/trustee-I.json  trustee I's partial decryption
//	result.json              the result (voting.Result's JSON)
//	log/key                  the audit log's signed-note verifier key
//	log/checkpoint           a signed checkpoint of the audit log (C2SP tlog-checkpoint)
//	log/entries.jsonl        every log entry of the election's span [first, end),
//	                         one per line, in index order
//	log/range.json           {"first":F,"end":E,"hashes":[…]}: the span and the
//	                         hashes of the subtrees left and right of it, from
//	                         which the entries and the checkpoint's root agree
//
// Every cast is an audit-log entry of action [CastAction] whose detail is
// [CastDetail]: the election id, the ballot digest in hex and the tracking
// code. The span holds every entry of the log between the election's first
// and last entries, so a verifier sees every cast the log holds for the
// election: each must be in the box, in the same order, and each ballot of
// the box must be one of them.
//
// # Exporting an election
//
// The server fills a [Record] and calls [WriteDir] or [WriteZip]: the
// manifest, the joint key and the ceremony's public record; Credentials,
// an iterator over the published credentials; Ballots, an iterator over
// the accepted ballots in the order of their cast entries, each with
// that entry's log index; Counted, or nil to count the last ballot of
// each credential; the tally, the partial decryptions and the result;
// and Log: the log's verifier key, a signed checkpoint taken after the
// election's last entry, the index of its first entry, an iterator over
// the entries from there to its last, and the hashes [RangeProof]
// computes from the log's stored hashes for that span.
//
// # Writing and reading
//
// [WriteDir] and [WriteZip] write a [Record]; the ballot box, the
// credentials and the log entries are streams ([iter.Seq2]) so that a
// record of millions of ballots is written without holding it in memory.
// [Open] (a directory or a zip file) and [Read] (any fs.FS) read one back
// under [Limits], since a record is untrusted input: the small files are
// parsed at once and an error names the file; the streams are parsed as
// they are iterated, and an error names the file and line. [Verify]
// checks a record; [Locate] and [FindTrackingCode] find one ballot in it.
// [Synthesize] writes a synthetic record, for benchmarks and tests.
package record
