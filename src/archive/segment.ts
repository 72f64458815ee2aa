/**
 * What the tar reader takes in: the payload's plaintext in file order, with a
 * hole wherever a chunk was lost, of the lost bytes' exact plaintext extent.
 * The format layer (format/reader.ts) makes segments; defining them here, on
 * the reading side, keeps archive/ free of imports from format/.
 */
export type Segment = { offset: number; data: Buffer; hole?: undefined } | { offset: number; hole: number; data?: undefined };
