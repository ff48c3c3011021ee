// Package anonymize turns microdata into k-anonymous, l-diverse microdata
// for publication, and reports how much information the generalisation
// cost.
//
// # Method
//
// The algorithm is strict Mondrian multidimensional partitioning:
//
//	Kristen LeFevre, David J. DeWitt, Raghu Ramakrishnan.
//	"Mondrian Multidimensional K-Anonymity". ICDE 2006.
//	https://doi.org/10.1109/ICDE.2006.101
//
// The rows start as one partition. A partition is split on the
// quasi-identifier with the widest normalised range: a numeric or ordered
// column at its median (rows ≤ median left, the others right), a
// categorical column into the children of its current generalisation-
// hierarchy node. A split is allowed only if every part keeps at least k
// rows and, when l ≥ 2, at least l distinct values of the sensitive column
// (distinct l-diversity, from Ashwin Machanavajjhala, Daniel Kifer, Johannes
// Gehrke, Muthuramakrishnan Venkitasubramaniam, "ℓ-Diversity: Privacy
// Beyond k-Anonymity", ACM TKDD 1(1), 2007). When no split is allowed the
// partition becomes an equivalence class, and each of its quasi-identifiers
// is published generalised: a numeric column as the range of its values in
// the class ("1980–1989", or one value), an ordered column as the range of
// its categories, a categorical column as the lowest hierarchy node that
// covers the class's values (a district, its region, the country). Rows are
// never suppressed.
//
// # Information loss
//
// [Loss] reports the Normalized Certainty Penalty (Jian Xu, Wei Wang, Jian
// Pei, Xiaoyuan Wang, Baile Shi, Ada Wai-Chee Fu, "Utility-Based
// Anonymization Using Local Recoding", KDD 2006): per row and
// quasi-identifier, the generalised range over the column's whole range, or
// the share of the hierarchy's leaves under the published node (0 for an
// ungeneralised value); averaged over rows and columns, 0 means no loss and
// 1 means everything generalised to the top. It also reports the
// discernibility metric Σ|E|² (Roberto J. Bayardo, Rakesh Agrawal, ICDE
// 2005) and LeFevre et al.'s normalised average class size
// C_AVG = (rows / classes) / k, 1 at best.
//
// # Roles
//
// A [Table] declares each column's [Role]. Direct identifiers (the zero
// Role) are dropped as rows are appended and never reach the output;
// quasi-identifiers are generalised; sensitive and other columns pass
// through unchanged. Rows are written class by class and, within a class,
// in the order of their values, so that the output order says nothing
// about the input order.
//
// # Cost
//
// The table keeps each column as 32-bit dictionary codes; the algorithm
// permutes one slice of row indices in place and keeps one scratch slice of
// the same length, so memory is about 4·(columns + 2) bytes a row plus the
// distinct values. Large partitions are split on several cores.
package anonymize
