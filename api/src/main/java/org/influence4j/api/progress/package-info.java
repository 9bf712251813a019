/**
 * Progress reporting shared by every long computation: {@link org.influence4j.api.progress.ProgressListener}
 * (started, step, finished), which the CLI turns into progress bars.
 */
package org.influence4j.api.progress;
