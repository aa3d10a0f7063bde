//! What a set reads before it plans, apart from whom it holds: its entries (from the template, or from Source at
//! a version, and the previous version's for an Update), the instance's names that a CSV file uses, and the
//! passwords of the entries to create. Every read is made before any write, so that a bad file, a missing name or
//! a missing password refuses the whole request with nothing changed.

use super::*;

impl ConnectUserSet {
    /// The names of the instance's profiles and groups that the CSV files use, read once per invocation: every
    /// routing profile, security profile and hierarchy group (one List each, all pages), and the path of each
    /// group a file names by path (one DescribeUserHierarchyGroup per group with that last name).
    pub(super) async fn names(&self, connect: &Connect, instance_id: &str, texts: &[&str], deadline: Instant) -> Result<csv::Names, Stop> {
        let list = |kind: Named| connect.list_named(instance_id, kind, deadline);
        let routing = list(Named::RoutingProfiles).await.map_err(|e| stop_of("reading the instance's routing profiles", &e))?;
        let security = list(Named::SecurityProfiles).await.map_err(|e| stop_of("reading the instance's security profiles", &e))?;
        let groups = list(Named::HierarchyGroups).await.map_err(|e| stop_of("reading the instance's hierarchy groups", &e))?;
        let mut names = csv::Names {
            routing_profiles: routing.into_iter().map(|(id, n)| (n, id)).collect(),
            security_profiles: security.into_iter().map(|(id, n)| (n, id)).collect(),
            ..Default::default()
        };
        let mut count: HashMap<String, usize> = HashMap::new();
        for (_, n) in &groups {
            *count.entry(n.to_lowercase()).or_default() += 1;
        }
        for (id, n) in &groups {
            match count.get(&n.to_lowercase()) {
                Some(1) => {
                    names.hierarchy_groups.insert(n.clone(), id.clone());
                }
                Some(&k) => {
                    names.ambiguous_groups.insert(n.to_lowercase(), k);
                }
                None => {}
            }
        }
        let mut paths: Vec<String> = texts.iter().flat_map(|t| csv::hierarchy_paths(t)).collect();
        paths.sort();
        paths.dedup();
        let mut described: HashMap<String, String> = HashMap::new();
        for path in &paths {
            let last = csv::last_segment(path).to_lowercase();
            for (id, _) in groups.iter().filter(|(_, n)| n.to_lowercase() == last) {
                if described.contains_key(id) {
                    continue;
                }
                let p =
                    connect.hierarchy_path(instance_id, id, deadline).await.map_err(|e| stop_of("reading a hierarchy group's path", &e))?;
                described.insert(id.clone(), p.join("/"));
            }
        }
        for (id, p) in described {
            names.hierarchy_groups.insert(p, id);
        }
        Ok(names)
    }

    /// The wanted set (its Source's entries first, then `Users`) and, for an Update, the previous entries (from
    /// the previous properties and their Source, when it can still be read).
    pub(super) async fn load(
        &self,
        ctx: &Ctx,
        connect: &Connect,
        old: Option<&Map<String, Value>>,
    ) -> Result<(SetProps, HashMap<String, OldEntry>, Option<csv::Names>), Stop> {
        let props = &ctx.request.properties;
        let invalid = |e: properties::PropertyErrors| {
            tracing::warn!(action = "reject", errors = e.0.len(), "invalid properties");
            for p in &e.0 {
                tracing::warn!(problem = %p, "invalid property");
            }
            let shown: Vec<String> = e.0.iter().map(ToString::to_string).collect();
            Stop::Failed(format!("invalid properties: {}", source::capped(&shown, source::PROBLEMS_BUDGET)))
        };
        let spec = source::spec(props).map_err(|e| invalid(properties::PropertyErrors(e)))?;
        let old_spec = old.and_then(|o| source::spec(o).ok().flatten());
        let Some(spec) = spec else {
            let set = SetProps::parse(props).map_err(invalid)?;
            let previous = self.previous(ctx, &set, connect, old, old_spec.as_ref(), None).await;
            return Ok((set, previous, None));
        };
        // The instance the names belong to; a wrong InstanceId is reported with the other properties.
        let Ok(instance) = props::SetProps::instance_of(props) else {
            return Err(SetProps::parse(props).err().map(invalid).unwrap_or_else(|| Stop::Failed("InstanceId: required".into())));
        };
        let text = self.files.read(&spec, ctx.deadline).await.map_err(|why| Stop::Failed(format!("{why}; nothing was changed")))?;
        let count = match source::within_limit(&text, spec.format) {
            Ok(n) => n,
            Err(problem) => {
                tracing::warn!(source = %spec.uri(), problem = %problem, "invalid roster");
                return Err(Stop::Failed(format!("invalid roster (rows are those of {}): {problem}; nothing was changed", spec.uri())));
            }
        };
        let names =
            if spec.format == source::Format::Csv { Some(self.names(connect, &instance, &[&text], ctx.deadline).await?) } else { None };
        let empty = csv::Names::default();
        let mut problems = Vec::new();
        let parsed = SetProps::parse_with(props, count, &mut |add| {
            problems = source::each(&text, spec.format, names.as_ref().unwrap_or(&empty), add);
        });
        drop(text);
        if let Err(e) = &parsed {
            problems.extend(e.0.iter().map(ToString::to_string));
        }
        if !problems.is_empty() {
            for p in &problems {
                tracing::warn!(source = %spec.uri(), problem = %p, "invalid roster");
            }
            return Err(Stop::Failed(format!(
                "invalid roster ({} problem(s); rows are those of {}): {}; nothing was changed",
                problems.len(),
                spec.uri(),
                source::capped(&problems, source::PROBLEMS_BUDGET)
            )));
        }
        let set = parsed.map_err(invalid)?;
        let previous = self.previous(ctx, &set, connect, old, old_spec.as_ref(), names.as_ref()).await;
        Ok((set, previous, names))
    }

    /// An Update's previous entries that differ from the wanted ones. Those of a previous Source that can no
    /// longer be read are left out (their users are then read from Connect instead of trusted), with a warning.
    pub(super) async fn previous(
        &self,
        ctx: &Ctx,
        set: &SetProps,
        connect: &Connect,
        old: Option<&Map<String, Value>>,
        old_spec: Option<&source::Spec>,
        names: Option<&csv::Names>,
    ) -> HashMap<String, OldEntry> {
        let Some(old) = old else { return HashMap::new() };
        let mut b = props::OldEntries::new(old, Some(set));
        if let Some(spec) = old_spec {
            // Entry by entry: only those that differ from the new ones are kept.
            let read = async {
                let text = self.files.read(spec, ctx.deadline).await.map_err(Stop::Failed)?;
                let fetched;
                let names = match (spec.format, names) {
                    (source::Format::Csv, None) => {
                        fetched = self.names(connect, &set.instance_id, &[&text], ctx.deadline).await?;
                        &fetched
                    }
                    (_, Some(n)) => n,
                    (_, None) => &csv::Names::default(),
                };
                let problems = source::each(&text, spec.format, names, &mut |_, o| b.add(&o));
                match problems.first() {
                    Some(p) => Err(Stop::Failed(format!("{} problem(s), the first: {p}", problems.len()))),
                    None => Ok(()),
                }
            };
            if let Err(Stop::Failed(why) | Stop::Deferred(why)) = read.await {
                tracing::warn!(source = %spec.uri(), why = %why, "the previous roster file cannot be read (or not all of it): those users are read from Connect");
            }
        }
        b.finish()
    }

    /// Passwords of the entries to create, read before any write; every entry that lacks one is named.
    pub(super) async fn passwords(
        &self,
        (connect, instance_id): (&Connect, &str),
        set: &SetProps,
        creating: &[usize],
        ctx: &Ctx,
    ) -> Result<HashMap<String, String>, String> {
        let mut out = HashMap::new();
        // Entries whose password was found or left out without a problem: whether they have one.
        let mut has_password: Vec<(String, bool)> = Vec::new();
        let mut problems = Vec::new();
        let mut secrets: HashMap<String, String> = HashMap::new();
        let read = |id: String| {
            let secrets = &self.secrets;
            async move { secrets.value(&id, ctx.deadline).await.map_err(|e| e.to_string()) }
        };
        let set_map = match &set.password_secret {
            None => None,
            Some((id, key)) => {
                let value = read(id.clone()).await?;
                Some(password_map(id, &value, key.as_deref())?)
            }
        };
        for &i in creating {
            let Some(e) = set.entries.get(i) else { continue };
            let what = e.what();
            let (password, source) = match &e.props.password {
                Some(PasswordSource::Inline(s)) => (Some(s.expose().to_string()), "Password".to_string()),
                Some(PasswordSource::SecretsManager { secret_id, key }) => {
                    if !secrets.contains_key(secret_id) {
                        let v = read(secret_id.clone()).await.map_err(|e| format!("{what}: {e}"))?;
                        secrets.insert(secret_id.clone(), v);
                    }
                    let value = secrets.get(secret_id).cloned().unwrap_or_default();
                    match crate::connect::extract(secret_id, &value, key.as_deref()) {
                        Ok(p) => (Some(p), format!("the password in secret {secret_id}")),
                        Err(e) => {
                            problems.push(format!("{what}: {e}"));
                            continue;
                        }
                    }
                }
                None => match (&set_map, &set.password_secret) {
                    (Some(map), Some((id, _))) => match map.get(&e.props.name) {
                        Some(p) => (Some(p.clone()), format!("the password for it in secret {id}")),
                        None => {
                            problems.push(format!("{what}: PasswordSecretId: secret {id} has no password for {}", e.props.name));
                            continue;
                        }
                    },
                    _ => (None, String::new()),
                },
            };
            if let Some(p) = password {
                if !properties::password_ok(&p) {
                    problems.push(format!("{what}: {source} {}", properties::PASSWORD_RULE));
                    continue;
                }
                out.insert(e.props.name.clone(), p);
                has_password.push((what, true));
            } else {
                has_password.push((what, false));
            }
        }
        // One DescribeInstance; if it cannot be read (a role without connect:DescribeInstance), each CreateUser
        // still says so for its user, as before.
        match connect.identity_management(instance_id, ctx.deadline).await {
            Ok(kind) => {
                for (what, has) in has_password {
                    if let Err(why) = properties::password_fits(&kind, has) {
                        let hint = if has { "" } else { " (give Password, or PasswordSecretId on the set)" };
                        problems.push(format!("{what}: {why}{hint}"));
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %reason(&e), "the instance's identity management type is unknown: passwords are checked by CreateUser")
            }
        }
        if !problems.is_empty() {
            for p in &problems {
                tracing::warn!(problem = %p, "entry refused");
            }
            return Err(source::capped(&problems, source::PROBLEMS_BUDGET));
        }
        Ok(out)
    }
}

/// The Name-to-password map of the set's secret (the whole secret, or its object under `key`).
pub(super) fn password_map(secret_id: &str, value: &str, key: Option<&str>) -> Result<HashMap<String, String>, String> {
    let json: Value = serde_json::from_str(value)
        .map_err(|_| format!("PasswordSecretId: secret {secret_id} is not a JSON object mapping each Name to its password"))?;
    let obj = match key {
        None => json.as_object(),
        Some(k) => json.get(k).and_then(Value::as_object),
    };
    let Some(obj) = obj else {
        return Err(match key {
            None => format!("PasswordSecretId: secret {secret_id} is not a JSON object mapping each Name to its password"),
            Some(k) => format!("PasswordSecretKey: secret {secret_id} has no object {k} mapping each Name to its password"),
        });
    };
    Ok(obj.iter().filter_map(|(k, v)| v.as_str().map(|p| (k.clone(), p.to_string()))).collect())
}
