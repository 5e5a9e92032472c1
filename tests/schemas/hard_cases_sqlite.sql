-- The hard cases of issue 15 that SQLite can express, in one schema written for
-- seedgraph's tests: AUTOINCREMENT and rowid keys, a nullable self-reference, a junction
-- table with a composite key of two foreign keys, a composite foreign key, a 2-cycle with
-- one nullable edge, CHECK lists and ranges, a unique index, a CHECK ordering two columns.
PRAGMA foreign_keys = ON;

CREATE TABLE employee (
    employee_id INTEGER PRIMARY KEY AUTOINCREMENT,
    first_name NVARCHAR(40) NOT NULL,
    last_name NVARCHAR(40) NOT NULL,
    email NVARCHAR(120) NOT NULL,
    phone NVARCHAR(24),
    reports_to INTEGER REFERENCES employee (employee_id),
    hired_on DATE NOT NULL
);
CREATE UNIQUE INDEX employee_email ON employee (email);

CREATE TABLE department (
    department_id INTEGER PRIMARY KEY,
    name NVARCHAR(60) NOT NULL UNIQUE,
    head_id INTEGER REFERENCES employee_department_head (head_id)
);

CREATE TABLE employee_department_head (  -- closes a cycle with department (nullable edge above)
    head_id INTEGER PRIMARY KEY,
    department_id INTEGER NOT NULL REFERENCES department (department_id),
    employee_id INTEGER NOT NULL REFERENCES employee (employee_id)
);

CREATE TABLE project (
    project_id INTEGER PRIMARY KEY,
    department_id INTEGER NOT NULL REFERENCES department (department_id),
    code TEXT NOT NULL CHECK (length(code) <= 6),
    status TEXT NOT NULL CHECK (status IN ('planned', 'active', 'done')),
    budget NUMERIC(10,2) CHECK (budget >= 1000 AND budget <= 50000),
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    CHECK (starts_on < ends_on)
);

CREATE TABLE assignment (
    employee_id INTEGER NOT NULL REFERENCES employee (employee_id),
    project_id INTEGER NOT NULL REFERENCES project (project_id),
    hours REAL NOT NULL CHECK (hours > 0 AND hours <= 40),
    PRIMARY KEY (employee_id, project_id)
);

CREATE TABLE timesheet (
    employee_id INTEGER NOT NULL,
    project_id INTEGER NOT NULL,
    week INTEGER NOT NULL CHECK (week BETWEEN 1 AND 53),
    logged_at DATETIME NOT NULL,
    FOREIGN KEY (employee_id, project_id) REFERENCES assignment (employee_id, project_id)
);
