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

    /**
     * A first level of a scatter whose table would be much larger than the index: when one target has
     * far more sources than the average, the rectangular table pads every other target to that many.
     * Each target's sources are then grouped in virtual rows of at most {@code w} sources (w about
     * twice the average sources of a target), so that the table of {@code index} (this level) holds
     * at most about three times the sources, and the virtual rows are scattered to their targets by
     * {@code targets} (the next level, w times fewer sources a target).
     *
     * @param index   this level's index into the virtual rows
     * @param rows    the number of virtual rows
     * @param targets each virtual row's target
     */
    record Split(int[] index, int rows, int[] targets) {

        /**
         * @param index the gather index, values in {@code [0, m)}
         * @return the split, or null when the table of {@code index} holds at most twice its length plus
         *     a row per target (one level is cheapest)
         */
        static Split of(int[] index, int m) {
            int[] count = counts(index, m, false);
            int targets = 0;
            int width = 0;
            for (int c : count) {
                targets += c > 0 ? 1 : 0;
                width = Math.max(width, c);
            }
            if ((long) targets * width <= 2L * index.length + targets) {
                return null;
            }
            int w = (int) Math.max(2, Math.min(width - 1, (2L * index.length + targets - 1) / Math.max(targets, 1)));
            int[] first = new int[m];
            int rows = 0;
            for (int r = 0; r < m; r++) {
                first[r] = rows;
                rows += (count[r] + w - 1) / w;
            }
            int[] virtual = new int[index.length];
            int[] seen = new int[m];
            for (int j = 0; j < index.length; j++) {
                int r = index[j];
                virtual[j] = first[r] + seen[r]++ / w;
            }
            int[] rowTargets = new int[rows];
            for (int r = 0; r < m; r++) {
                for (int v = first[r]; v < first[r] + (count[r] + w - 1) / w; v++) {
                    rowTargets[v] = r;
                }
            }
            return new Split(virtual, rows, rowTargets);
        }
    }

    /**
     * @param padded whether entries equal to {@code m} (a padded gather's zero column) are left out
     * @return how many entries of {@code index} point at each of the m rows
     * @throws IllegalArgumentException naming a row outside {@code [0, m)}
     */
    private static int[] counts(int[] index, int m, boolean padded) {
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
        return count;
    }

    private static ScatterTable of(int[] index, int m, boolean padded) {
        int[] count = counts(index, m, padded);
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
