@rem Gradle wrapper launcher for Windows: see gradlew (same behaviour).
@echo off
set APP_HOME=%~dp0
set JAR=%APP_HOME%gradle\wrapper\gradle-wrapper.jar
if not exist "%JAR%" (
  echo error: gradle\wrapper\gradle-wrapper.jar is missing; make it once with an installed Gradle: cd %APP_HOME% ^&^& gradle wrapper --gradle-version 8.9 1>&2
  exit /b 1
)
set JAVA_EXE=java.exe
if defined JAVA_HOME set JAVA_EXE=%JAVA_HOME%\bin\java.exe
"%JAVA_EXE%" %JAVA_OPTS% %GRADLE_OPTS% "-Dorg.gradle.appname=%~n0" -classpath "%JAR%" org.gradle.wrapper.GradleWrapperMain %*
