package org.mnistdeploy.demo.core;

import org.junit.runner.JUnitCore;
import org.junit.runner.Result;
import org.junit.runner.notification.Failure;

/** Runs the given test classes and prints one summary line: "JUnit: N passed, M failed". */
public final class RunTests {
    public static void main(String[] args) throws ClassNotFoundException {
        Class<?>[] classes = new Class<?>[args.length];
        for (int k = 0; k < args.length; k++) classes[k] = Class.forName(args[k]);
        Result r = new JUnitCore().run(classes);
        for (Failure f : r.getFailures()) {
            System.out.println("FAIL " + f.getTestHeader() + ": " + f.getMessage());
            System.out.println(f.getTrace());
        }
        int passed = r.getRunCount() - r.getFailureCount();
        System.out.println("JUnit: " + passed + " passed, " + r.getFailureCount() + " failed"
                + (r.getIgnoreCount() > 0 ? ", " + r.getIgnoreCount() + " ignored" : ""));
        System.exit(r.wasSuccessful() && r.getRunCount() > 0 ? 0 : 1);
    }
}
