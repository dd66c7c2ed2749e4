#!/usr/bin/env bash
# Compile the app's platform-independent core (no Android imports) and its JUnit 4 tests with the
# JDK, run them, and print "JUnit: N passed, M failed". Needs javac/java 17 and Debian's junit4
# (/usr/share/java/junit4.jar, hamcrest-core.jar). Output classes go to mobile_demo/android/build/jvm
# (gitignored). Exit status: 0 only if every test passed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
JUNIT_JAR="${JUNIT_JAR:-/usr/share/java/junit4.jar}"
HAMCREST_JAR="${HAMCREST_JAR:-/usr/share/java/hamcrest-core.jar}"
for f in "$JUNIT_JAR" "$HAMCREST_JAR"; do
  [ -f "$f" ] || { echo "error: $f not found; install Debian's junit4 (apt-get install junit4) or set JUNIT_JAR/HAMCREST_JAR" >&2; exit 2; }
done
command -v javac >/dev/null || { echo "error: javac not found; install a JDK 17 (apt-get install openjdk-17-jdk-headless)" >&2; exit 2; }
out="$here/build/jvm"
rm -rf "$out" && mkdir -p "$out/main" "$out/test"
main_src="$here/app/src/main/java/org/mnistdeploy/demo/core"
test_src="$here/app/src/test/java/org/mnistdeploy/demo/core"
javac --release 17 -Xlint:all -Werror -d "$out/main" "$main_src"/*.java
javac --release 17 -d "$out/test" -cp "$out/main:$JUNIT_JAR:$HAMCREST_JAR" "$test_src"/*.java
classes=()
for f in "$test_src"/*Test.java; do classes+=("org.mnistdeploy.demo.core.$(basename "$f" .java)"); done
exec java -cp "$out/main:$out/test:$JUNIT_JAR:$HAMCREST_JAR" org.mnistdeploy.demo.core.RunTests "${classes[@]}"
