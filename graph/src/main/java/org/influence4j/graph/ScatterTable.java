package org.influence4j.graph;

/**
 * For a gather index, the positions that feed each target row, as a rectangular table padded with
 * a pointer to a zero row: the scatter-add of {@link Kernels#scatterRows} becomes a gather and a
 * sum, exact in floating point (no cancellation). Only targets that occur get a table row; when
 * some rows of the result are not targets, {@code targets} maps every result row to its table row
 * (or to the zero row).
 *
 * @param positions row-major {@code [rows, width]} positions into the gathered array, {@code len}
 *                  (the zero row) where a target has fewer than {@code width} sources
 * @param rows      the number of table rows (distinct targets)
 * @param width     the largest number of sources of one target
 * @param targets   for each result row, its table row or {@code rows} (zero); null when every result
 *                  row is a target, in order
 */
record ScatterTable(int[] positions, int rows, int width, int[] targets) {

    /**
     * @param index the gather index, values in {@code [0, m)}
     * @param m     the number of result rows
     */
    static ScatterTable of(int[] index, int m) {
        return of(index, m, false);
    }

    /**
     * The table of a padded gather ({@link Kernels#gatherPaddedColumns}): entries equal to
     * {@code m} (the zero column) feed no target and are left out.
     *
     * @param index the gather index, values in {@code [0, m]}
     * @param m     the number of result rows (columns)
     */
    static ScatterTable ofPadded(int[] index, int m) {
        return of(index, m, true);
    }

    private static ScatterTable of(int[] index, int m, boolean padded) {
        int[] count = new int[m];
        for (int r : index) {
            if (padded && r == m) {
                continue;
            }
            if (r < 0 || r >= m) {
                throw new IllegalArgumentException("index: row " + r + " is outside [0, " + m + ")");
            }
            count[r]++;
        }
        int[] tableRow = new int[m];
        int rows = 0;
        int width = 1;
        for (int r = 0; r < m; r++) {
            tableRow[r] = count[r] > 0 ? rows++ : -1;
            width = Math.max(width, count[r]);
        }
        long size = (long) Math.max(rows, 1) * width;
        if (size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("index: a row is gathered " + width + " times; the scatter table of "
                    + size + " entries is too large (use smaller chunks)");
        }
        int[] positions = new int[(int) size];
        java.util.Arrays.fill(positions, index.length);
        int[] filled = new int[Math.max(rows, 1)];
        for (int j = 0; j < index.length; j++) {
            if (padded && index[j] == m) {
                continue;
            }
            int t = tableRow[index[j]];
            positions[t * width + filled[t]++] = j;
        }
        if (rows == m) {
            return new ScatterTable(positions, rows, width, null);
        }
        int[] targets = new int[m];
        for (int r = 0; r < m; r++) {
            targets[r] = tableRow[r] < 0 ? Math.max(rows, 1) : tableRow[r];
        }
        return new ScatterTable(positions, Math.max(rows, 1), width, targets);
    }
}
