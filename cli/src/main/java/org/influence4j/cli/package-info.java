/**
 * The {@code influence4j} command line ({@link org.influence4j.cli.Influence4jCommand}): the demo on
 * the bundled data with the default backend, and the list of discovered backends. Exit codes:
 * 0 success, 1 failure, 2 usage error; errors are one line unless {@code --verbose}.
 */
package org.influence4j.cli;
