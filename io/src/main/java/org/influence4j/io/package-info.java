/**
 * File formats: NumPy {@code .npy} files and {@code .npz} archives, safetensors, IDX files (MNIST,
 * Fashion-MNIST), parameter files ({@link org.influence4j.io.ParameterFiles}: a PyTorch
 * {@code state_dict} by name, or a flat {@code .npy}) and provenance sidecar records
 * ({@link org.influence4j.io.ProvenanceFiles}). Writes are atomic and durable (temporary file,
 * {@code fsync}, rename), so a failed write never leaves a half-written file under the target name.
 *
 * <p>Every reader is bounded against corrupt or hostile files: lengths, offsets, shapes and element
 * counts are checked with overflow-safe arithmetic before anything is allocated, JSON nesting and size
 * are limited ({@link org.influence4j.api.internal.Json#MAX_DEPTH},
 * {@link org.influence4j.api.internal.Json#MAX_LENGTH}), and every problem is the documented exception
 * ({@link java.io.IOException} naming the file, or {@link java.lang.IllegalArgumentException} for JSON
 * text) with a one-line message naming the field.
 */
package org.influence4j.io;
