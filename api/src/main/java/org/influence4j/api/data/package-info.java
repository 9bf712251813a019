/**
 * Training and test data as host-side {@link org.influence4j.api.data.Batch batches}, read chunk by
 * chunk from a re-iterable {@link org.influence4j.api.data.DataSource}: in memory, CSV
 * ({@code org.influence4j.io.data.CsvDataSource} (module io)), or typed arrays of any per-sample shape from
 * {@code .npy}, {@code .npz} and {@code .safetensors} files
 * ({@code org.influence4j.io.data.ArrayDataSource} (module io)).
 */
package org.influence4j.api.data;
