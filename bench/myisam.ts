/**
 * npm run bench:myisam [-- --scale 2] [--repeat N] [--backups-only] [--writer] [--verify] [--no-build]
 *
 * The bench of bench/run.ts on the engine practices run: the real 2025 Open
 * Dental schema (fixtures/opendental-2025), every table MyISAM, generated in
 * a practice's proportions at the size of the InnoDB run (a dump of about
 * 420 MB per unit of scale). lastresort restore against mysql < dump.sql,
 * age -d | mysql and myloader --threads 2 in the same run, the restored
 * database compared with the source through SQL (--verify), ratios and the
 * peak RSS after the key derivation. Goals (issue 27): at most 0.35x mysql
 * and 0.45x myloader.
 *
 * Backups (issue 25): lastresort backup against mysqldump --lock-all-tables
 * | age (the one moment on MyISAM), mysqldump with its default table locks
 * and mydumper --threads 2, with how long each held the office's writes;
 * goals at most 0.80x mysqldump --lock-all-tables | age, peak RSS under
 * 150 MiB, writes held no longer than a plain read of the held tables plus
 * a second. --writer: an office UPDATE every 20 ms meanwhile (bench/writer.ts).
 */
process.argv.splice(2, 0, '--kind', 'opendental2025');
await import('./run.js');
