/**
 * Training and test data as host-side {@link org.influence4j.api.data.Batch batches}, read chunk by
 * chunk from a re-iterable {@link org.influence4j.api.data.DataSource}: in memory, CSV
 * ({@link org.influence4j.api.data.CsvDataSource}), or typed arrays of any per-sample shape from
 * {@code .npy}, {@code .npz} and {@code .safetensors} files
 * ({@link org.influence4j.api.data.ArrayDataSource}).
 */
package org.influence4j.api.data;
