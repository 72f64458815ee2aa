/** Open Dental's main tables, in the office's words (what their rows are). */
export const MAIN_TABLES: Record<string, string> = {
  patient: 'patients',
  appointment: 'appointments',
  procedurelog: 'procedures',
  payment: 'payments',
  userod: 'logins',
};
