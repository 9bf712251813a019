/**
 * Not an API: helpers shared by influence4j's own modules — a small bounded JSON reader and writer
 * ({@link org.influence4j.api.internal.Json}, used for model descriptions, provenance records and file
 * headers), atomic, durable file writes ({@link org.influence4j.api.internal.AtomicFiles}), the deletion of
 * folder trees ({@link org.influence4j.api.internal.FileTrees}), the default
 * {@link org.influence4j.api.Tensor#spdInverse()} ({@link org.influence4j.api.internal.BlockSpdInverse}) and how many
 * samples' per-sample gradients a pass holds ({@link org.influence4j.api.internal.GradientChunks}). They may
 * change without notice; applications should not call them.
 */
package org.influence4j.api.internal;
