/**
 * Helpers shared by several packages of the calculators module: small dense linear algebra on the
 * host ({@code DenseLinalg}: symmetric eigendecomposition, Cholesky, Gram matrices; row joins of
 * tensors), used by the
 * solvers, EK-FAC and TracIn's projections; {@code Waves}: tasks run beside the calling thread, for
 * TracIn's checkpoints and the curvature's kept batches. Not an API: public only so that the module's packages
 * can share it; it may change without notice.
 */
package org.influence4j.calculators.internal;
