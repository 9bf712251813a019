/**
 * Training and test data as host-side {@link org.influence4j.api.data.Batch batches}, read chunk by
 * chunk from a re-iterable {@link org.influence4j.api.data.DataSource} (in memory or CSV).
 */
package org.influence4j.api.data;
