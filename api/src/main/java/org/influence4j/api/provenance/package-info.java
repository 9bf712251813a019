/**
 * Provenance of results: what produced a number, so that it can be trusted and never silently mixed
 * with the numbers of another run.
 *
 * <p>A {@link org.influence4j.api.provenance.Provenance} has two parts: the <em>identity</em> — every
 * input and setting that determines the numbers (influence4j and backend versions, method, λ,
 * curvature, dtype, SHA-256 of the model description, the parameters and each data file) — and the
 * <em>diagnostics</em> — what happened while computing them (solver iterations, residuals, the
 * converged flag, run times). Two results may be combined (a resumed Zarr store, a reused cache,
 * checkpoints of one training run) only when their identities are equal; otherwise
 * {@link org.influence4j.api.provenance.ProvenanceMismatchException} names the differing fields.
 * {@link org.influence4j.api.provenance.Fingerprints} computes the SHA-256 digests and
 * {@code org.influence4j.io.ProvenanceFiles} (module io) reads and writes the sidecar records of
 * result files.
 */
package org.influence4j.api.provenance;
