//! The site as one list of render jobs (a page, a feed, the JSON export…), each rendered on
//! its own into one output file, in parallel. Nothing here writes files.

use std::hash::{Hash, Hasher};

use jiff::civil::Date;
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHasher};
use serde::Serialize;
use tera::{Context, Value};

use crate::config::Config;
use crate::model::{Report, Site, TaxonomyKind};
use crate::slug::slugify;
use crate::theme::Theme;
use crate::view::{
    ActionView, Card, LessonView, ReportRef, ReportsJson, display_time, term_path, with_root,
};

/// One rendered file.
pub struct Output<'s> {
    /// Relative to the output directory, with `/` separators.
    pub path: String,
    pub body: Body<'s>,
}

/// A file's content: rendered bytes, or the JSON export, which is serialised straight into
/// its file (tens of megabytes for a large site, better not held in memory whole).
pub enum Body<'s> {
    Bytes(Vec<u8>),
    Json(Box<ReportsJson<'s>>),
}

impl Body<'_> {
    pub fn write_to(&self, writer: &mut dyn std::io::Write) -> std::io::Result<()> {
        match self {
            Body::Bytes(bytes) => writer.write_all(bytes),
            Body::Json(json) => serde_json::to_writer(writer, json).map_err(std::io::Error::other),
        }
    }
}

/// What lists of lessons and actions are about: everything, or one term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    All,
    Term(TaxonomyKind, usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    Open,
    Overdue,
    Done,
}

impl State {
    /// Open and done together are every action, so there is no "all" list: it would render
    /// every action a second time.
    const ORDER: [State; 3] = [State::Open, State::Overdue, State::Done];

    fn name(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Overdue => "overdue",
            State::Done => "done",
        }
    }

    fn label(self) -> &'static str {
        match self {
            State::Open => "Open",
            State::Overdue => "Overdue",
            State::Done => "Done",
        }
    }

    /// The segment after `actions/`: open actions are the default view.
    fn segment(self) -> &'static str {
        match self {
            State::Open => "",
            State::Overdue => "overdue/",
            State::Done => "done/",
        }
    }
}

/// One output file to produce.
#[derive(Debug, Clone, Copy)]
pub enum Job {
    Home,
    Reports {
        page: usize,
    },
    Report(usize),
    Lessons {
        scope: Scope,
        category: Option<usize>,
        page: usize,
    },
    Actions {
        scope: Scope,
        state: State,
        page: usize,
    },
    Taxonomy(TaxonomyKind),
    Term {
        kind: TaxonomyKind,
        term: usize,
        page: usize,
    },
    /// The search page: the browser search engine runs there, in a worker.
    Search,
    NotFound,
    Feed,
    Sitemap,
    Json,
}

impl Job {
    /// The kind of page the job makes, as the build's timings group them.
    pub fn kind(&self) -> &'static str {
        match self {
            Job::Home => "home",
            Job::Reports { .. } => "report lists",
            Job::Report(_) => "reports",
            Job::Lessons { .. } => "lesson lists",
            Job::Actions { .. } => "action lists",
            Job::Taxonomy(_) => "taxonomies",
            Job::Term { .. } => "terms",
            Job::Search => "search",
            Job::NotFound | Job::Feed | Job::Sitemap | Job::Json => "other",
        }
    }
}

/// (report index, lesson or action index)
type Ref = (u32, u32);

/// A category of lessons across the site.
struct Category {
    name: String,
    slug: String,
    lessons: Vec<Ref>,
}

/// The lists of lessons and actions every page draws from, computed once.
struct Lists {
    lessons: FxHashMap<Scope, Vec<Ref>>,
    categories: Vec<Category>,
    actions: FxHashMap<(Scope, State), Vec<Ref>>,
}

pub struct Renderer<'s> {
    site: &'s Site,
    config: &'s Config,
    theme: &'s Theme,
    cards: Vec<Card>,
    /// Each report's [`ReportRef`], made once (a megabyte a thousand reports): every lesson
    /// and action in a list shows its report, which was serialized for each of them.
    report_refs: Vec<Value>,
    lists: Lists,
    /// Filter links by service, tag and team for the site-wide lessons list…
    lesson_filters: Vec<FilterGroup>,
    /// … and for the site-wide open actions list.
    action_filters: Vec<FilterGroup>,
    /// A hash of what every page shows of the whole site (see [`Renderer::site_fingerprint`]).
    site_hash: u64,
    /// Hashes of what every page of the site-wide lists shows (their filters, the categories
    /// of lessons), for the fingerprints of a thousand such pages.
    shared_hashes: SharedHashes,
}

#[derive(Default)]
struct SharedHashes {
    lesson_filters: u64,
    action_filters: u64,
    categories: u64,
}

#[derive(Serialize)]
struct SiteView {
    title: String,
    description: String,
    base_url: String,
    generator: String,
    today: String,
    counts: Counts,
    taxonomies: Vec<TaxonomyLink>,
    severities: Vec<SeverityLink>,
}

#[derive(Serialize)]
struct Counts {
    reports: usize,
    lessons: usize,
    actions: usize,
    open_actions: usize,
    overdue_actions: usize,
}

#[derive(Serialize)]
struct TaxonomyLink {
    kind: &'static str,
    title: &'static str,
    url: String,
}

#[derive(Serialize, Clone)]
struct NamedCount {
    name: String,
    url: String,
    count: usize,
}

/// "By service: payments-api 41, checkout-api 30, … all services".
#[derive(Serialize)]
struct FilterGroup {
    kind: &'static str,
    title: &'static str,
    all_url: String,
    /// How many terms have entries; `terms` holds the first 12.
    total: usize,
    terms: Vec<NamedCount>,
}

#[derive(Serialize)]
struct SeverityLink {
    name: String,
    url: String,
    count: usize,
    /// 1-based position in the configured severities, whichever have reports.
    rank: usize,
}

#[derive(Serialize)]
struct PageInfo<'a> {
    path: &'a str,
    permalink: String,
    section: &'a str,
}

#[derive(Serialize)]
struct Paginator {
    current: usize,
    total_pages: usize,
    total_items: usize,
    prev_url: Option<String>,
    next_url: Option<String>,
    pages: Vec<PageLink>,
}

#[derive(Serialize)]
struct PageLink {
    number: usize,
    url: String,
    current: bool,
}

impl<'s> Renderer<'s> {
    /// Sets the site-wide template values once, in the theme's global context.
    pub fn new(site: &'s Site, config: &'s Config, theme: &'s mut Theme) -> Self {
        Self::reusing(site, config, theme, Vec::new())
    }

    /// [`Renderer::new`], taking the cards of a previous renderer of the same site with the
    /// same configuration and date ([`Renderer::into_cards`]): cards of unchanged reports
    /// are not made again.
    pub fn reusing(
        site: &'s Site,
        config: &'s Config,
        theme: &'s mut Theme,
        previous: Vec<Card>,
    ) -> Self {
        let today = site.today;
        // The cards and the lists do not depend on each other.
        let ((cards, report_refs), lists) = rayon::join(
            || {
                let mut by_revision: FxHashMap<u64, Card> = previous
                    .into_iter()
                    .map(|card| (card.revision, card))
                    .collect();
                let reused: Vec<Option<Card>> = site
                    .reports
                    .iter()
                    .map(|r| by_revision.remove(&r.revision))
                    .collect();
                // Collected in parallel: 10,000 cards are megabytes of fresh pages to fault in.
                let cards: Vec<Card> = reused
                    .into_par_iter()
                    .zip(&site.reports)
                    .map(|(card, r)| card.unwrap_or_else(|| Card::new(r, &config.base_url, today)))
                    .collect();
                let report_refs = site
                    .reports
                    .par_iter()
                    .map(|r| Value::from_serializable(&ReportRef::new(r)))
                    .collect::<Vec<Value>>();
                (cards, report_refs)
            },
            || Lists::new(site),
        );
        let open_actions = lists.actions[&(Scope::All, State::Open)].len();
        let overdue_actions = lists.actions[&(Scope::All, State::Overdue)].len();
        let site_view = SiteView {
            title: config.title.clone(),
            description: config.description.clone(),
            base_url: config.base_url.clone(),
            generator: format!("rollbook {}", env!("CARGO_PKG_VERSION")),
            today: today.to_string(),
            counts: Counts {
                reports: site.reports.len(),
                lessons: site.lesson_count(),
                actions: site.action_count(),
                open_actions,
                overdue_actions,
            },
            taxonomies: TaxonomyKind::ALL
                .iter()
                .map(|k| TaxonomyLink {
                    kind: k.slug(),
                    title: k.title(),
                    url: format!("{}/index.html", k.slug()),
                })
                .collect(),
            // Severities in configured order; only those with reports have a page to link to.
            severities: site
                .taxonomy(TaxonomyKind::Severity)
                .terms
                .iter()
                .map(|t| SeverityLink {
                    name: t.name.clone(),
                    url: term_path(TaxonomyKind::Severity, &t.slug),
                    count: t.reports.len(),
                    rank: config
                        .severities
                        .iter()
                        .position(|s| *s == t.name)
                        .map_or(0, |i| i + 1),
                })
                .collect(),
        };
        theme.set_global("site", &site_view);
        let site_hash = serde_json::to_vec(&site_view).map_or(0, |json| hash_of(&json));
        let mut renderer = Renderer {
            site,
            config,
            theme,
            cards,
            report_refs,
            lists,
            lesson_filters: Vec::new(),
            action_filters: Vec::new(),
            site_hash,
            shared_hashes: SharedHashes::default(),
        };
        // The same on every page of a list, so computed once here rather than per page.
        let lesson_filters = renderer.filters(
            |s| renderer.lists.lessons[&s].len(),
            |s| page_path(&renderer.lessons_base(s, None), 1),
        );
        let action_filters = renderer.filters(
            |s| renderer.lists.actions[&(s, State::Open)].len(),
            |s| page_path(&renderer.actions_base(s, State::Open), 1),
        );
        let json_hash =
            |value: &[FilterGroup]| serde_json::to_vec(value).map_or(0, |json| hash_of(&json));
        let mut categories = FxHasher::default();
        renderer.lists.lessons[&Scope::All]
            .len()
            .hash(&mut categories);
        for category in &renderer.lists.categories {
            (&category.name, category.lessons.len()).hash(&mut categories);
        }
        renderer.shared_hashes = SharedHashes {
            lesson_filters: json_hash(&lesson_filters),
            action_filters: json_hash(&action_filters),
            categories: categories.finish(),
        };
        renderer.lesson_filters = lesson_filters;
        renderer.action_filters = action_filters;
        renderer
    }

    /// Every job of the site, in a stable order.
    pub fn jobs(&self) -> Vec<Job> {
        let size = self.config.paginate;
        let pages = |n: usize| n.div_ceil(size).max(1);
        // The few files of the whole site first (reports.json is 40 MB at 10,000 reports): as
        // the last jobs, one core wrote them alone while the other had nothing left to do. The
        // sitemap lists the pages (`.html`) in the order below.
        let mut jobs = vec![Job::Json, Job::Feed];
        // A sitemap must list absolute URLs; without a base URL it would be invalid.
        if !self.config.base_url.is_empty() {
            jobs.push(Job::Sitemap);
        }
        jobs.push(Job::Home);
        jobs.extend((1..=pages(self.site.reports.len())).map(|page| Job::Reports { page }));
        jobs.extend((0..self.site.reports.len()).map(Job::Report));
        jobs.extend(
            (1..=pages(self.lists.lessons[&Scope::All].len())).map(|page| Job::Lessons {
                scope: Scope::All,
                category: None,
                page,
            }),
        );
        for (c, category) in self.lists.categories.iter().enumerate() {
            jobs.extend(
                (1..=pages(category.lessons.len())).map(|page| Job::Lessons {
                    scope: Scope::All,
                    category: Some(c),
                    page,
                }),
            );
        }
        for state in State::ORDER {
            let n = self.lists.actions[&(Scope::All, state)].len();
            jobs.extend((1..=pages(n)).map(|page| Job::Actions {
                scope: Scope::All,
                state,
                page,
            }));
        }
        for taxonomy in &self.site.taxonomies {
            let kind = taxonomy.kind;
            jobs.push(Job::Taxonomy(kind));
            for (t, term) in taxonomy.terms.iter().enumerate() {
                jobs.extend((1..=pages(term.reports.len())).map(|page| Job::Term {
                    kind,
                    term: t,
                    page,
                }));
                if !has_term_lists(kind) {
                    continue;
                }
                let scope = Scope::Term(kind, t);
                jobs.extend((1..=pages(self.lists.lessons[&scope].len())).map(|page| {
                    Job::Lessons {
                        scope,
                        category: None,
                        page,
                    }
                }));
                for state in TERM_STATES {
                    let n = self.lists.actions[&(scope, state)].len();
                    jobs.extend((1..=pages(n)).map(|page| Job::Actions { scope, state, page }));
                }
            }
        }
        jobs.extend([Job::Search, Job::NotFound]);
        jobs
    }

    /// The output path of a job.
    pub fn path(&self, job: &Job) -> String {
        match *job {
            Job::Home => "index.html".into(),
            Job::Reports { page } => page_path("reports/", page),
            Job::Report(r) => self.site.reports[r].output_path(),
            Job::Lessons {
                scope,
                category,
                page,
            } => page_path(&self.lessons_base(scope, category), page),
            Job::Actions { scope, state, page } => {
                page_path(&self.actions_base(scope, state), page)
            }
            Job::Taxonomy(kind) => format!("{}/index.html", kind.slug()),
            Job::Term { kind, term, page } => page_path(&self.term_base(kind, term), page),
            Job::Search => "search/index.html".into(),
            Job::NotFound => "404.html".into(),
            Job::Feed => "atom.xml".into(),
            Job::Sitemap => "sitemap.xml".into(),
            Job::Json => "reports.json".into(),
        }
    }

    /// The report cards, for [`Renderer::reusing`].
    pub fn into_cards(self) -> Vec<Card> {
        self.cards
    }

    /// A hash of what every page shows of the whole site: the navigation's overdue count, the
    /// footer's severities, the site's title and build date.
    pub fn site_fingerprint(&self) -> u64 {
        self.site_hash
    }

    /// A hash of what a job's output shows besides [`Renderer::site_fingerprint`]: the
    /// revisions of the reports, lessons and actions on it, and the counts and links it
    /// lists. Two renders with the same theme, configuration and fingerprints write the same
    /// bytes, so after an edit only the jobs whose fingerprint changed need rendering.
    /// Report positions never enter it: a report added before others shifts them all.
    pub fn fingerprint(&self, job: &Job, path: &str, all_paths: &[String]) -> u64 {
        let mut h = FxHasher::default();
        let revision = |r: usize| self.site.reports[r].revision;
        let hashes = |r: usize| self.cards[r].hashes(&self.site.reports[r]);
        let card = |r: usize| hashes(r).card;
        let lessons = |list: &[Ref], h: &mut FxHasher| {
            list.len().hash(h);
            for &(r, l) in list {
                hashes(r as usize).lessons[l as usize].hash(h);
            }
        };
        let actions = |list: &[Ref], h: &mut FxHasher| {
            list.len().hash(h);
            for &(r, a) in list {
                hashes(r as usize).actions[a as usize].hash(h);
            }
        };
        let size = self.config.paginate;
        let page_of = |len: usize, page: usize| {
            let start = ((page - 1) * size).min(len);
            start..(start + size).min(len)
        };
        path.hash(&mut h);
        match *job {
            Job::Json => {
                for report in &self.site.reports {
                    report.revision.hash(&mut h);
                }
            }
            Job::Home => {
                (0..self.cards.len().min(15)).for_each(|r| card(r).hash(&mut h));
                let overdue = &self.lists.actions[&(Scope::All, State::Overdue)];
                actions(&overdue[..overdue.len().min(10)], &mut h);
                let upcoming: Vec<Ref> = self.upcoming().take(10).collect();
                actions(&upcoming, &mut h);
                for kind in [TaxonomyKind::Services, TaxonomyKind::Tags] {
                    for term in self.site.taxonomy(kind).terms.iter().take(10) {
                        (&term.name, term.reports.len()).hash(&mut h);
                    }
                }
            }
            Job::Reports { page } => {
                let n = self.site.reports.len();
                n.hash(&mut h);
                page_of(n, page).for_each(|r| card(r).hash(&mut h));
            }
            Job::Report(r) => {
                revision(r).hash(&mut h);
                // Its neighbours' cards link newer and older reports.
                r.checked_sub(1).map(card).hash(&mut h);
                (r + 1 < self.site.reports.len())
                    .then(|| card(r + 1))
                    .hash(&mut h);
                for related in &self.site.related[r] {
                    (card(related.report), &related.reason).hash(&mut h);
                }
            }
            Job::Lessons {
                scope,
                category,
                page,
            } => {
                let list = match category {
                    Some(c) => &self.lists.categories[c].lessons,
                    None => &self.lists.lessons[&scope],
                };
                lessons(&list[page_of(list.len(), page)], &mut h);
                list.len().hash(&mut h);
                if scope == Scope::All {
                    self.shared_hashes.categories.hash(&mut h);
                    if category.is_none() {
                        self.shared_hashes.lesson_filters.hash(&mut h);
                    }
                }
                self.term_name(scope).hash(&mut h);
            }
            Job::Actions { scope, state, page } => {
                let list = &self.lists.actions[&(scope, state)];
                actions(&list[page_of(list.len(), page)], &mut h);
                for state in State::ORDER {
                    self.lists.actions[&(scope, state)].len().hash(&mut h);
                }
                if scope == Scope::All && state == State::Open {
                    self.shared_hashes.action_filters.hash(&mut h);
                }
                self.term_name(scope).hash(&mut h);
            }
            Job::Taxonomy(kind) => {
                for (t, term) in self.site.taxonomy(kind).terms.iter().enumerate() {
                    let scope = Scope::Term(kind, t);
                    (&term.name, term.reports.len()).hash(&mut h);
                    term.reports.first().map(|&r| revision(r)).hash(&mut h);
                    self.lists.lessons[&scope].len().hash(&mut h);
                    self.lists.actions[&(scope, State::Open)].len().hash(&mut h);
                    self.overdue_in(scope).hash(&mut h);
                }
            }
            Job::Term { kind, term, page } => {
                let scope = Scope::Term(kind, term);
                let listed = &self.site.taxonomy(kind).terms[term];
                (&listed.name, listed.reports.len()).hash(&mut h);
                for &r in &listed.reports[page_of(listed.reports.len(), page)] {
                    card(r).hash(&mut h);
                }
                let latest = &self.lists.lessons[&scope];
                lessons(&latest[..latest.len().min(8)], &mut h);
                let open = &self.lists.actions[&(scope, State::Open)];
                actions(&open[..open.len().min(8)], &mut h);
                open.len().hash(&mut h);
                self.overdue_in(scope).hash(&mut h);
            }
            Job::Search | Job::NotFound => {}
            Job::Feed => {
                (0..self.cards.len().min(30)).for_each(|r| card(r).hash(&mut h));
            }
            Job::Sitemap => all_paths.hash(&mut h),
        }
        h.finish()
    }

    /// Open actions that are not overdue, due soonest first. Open actions are ordered by
    /// due date, so the overdue ones (due before today) are the first of them.
    fn upcoming(&self) -> impl Iterator<Item = Ref> + '_ {
        let overdue = self.lists.actions[&(Scope::All, State::Overdue)].len();
        self.lists.actions[&(Scope::All, State::Open)]
            .iter()
            .skip(overdue)
            .copied()
    }

    fn term_name(&self, scope: Scope) -> Option<&str> {
        match scope {
            Scope::All => None,
            Scope::Term(kind, t) => Some(&self.site.taxonomy(kind).terms[t].name),
        }
    }

    pub fn render(&self, job: &Job, all_paths: &[String]) -> Result<Output<'s>, String> {
        self.render_into(job, all_paths, Vec::new())
    }

    /// [`render`](Self::render) into `buffer`, emptied first, which becomes the page's
    /// [`Body::Bytes`]. A build passes each page's buffer on to the next page: a list page
    /// of 100 KB grew its own buffer from nothing, copying itself at every doubling into
    /// memory the kernel zeroed afresh, and checked that it was UTF-8 at the end.
    pub fn render_into(
        &self,
        job: &Job,
        all_paths: &[String],
        mut buffer: Vec<u8>,
    ) -> Result<Output<'s>, String> {
        let path = self.path(job);
        let root = root_of(&path);
        let mut context = Context::new();
        context.insert("root", &root);
        let template = match *job {
            Job::Home => {
                self.home(&mut context, &root);
                "index.html"
            }
            Job::Reports { page } => {
                let (range, paginator) = self.paginate(self.cards.len(), page, "reports/");
                context.insert("reports", &self.cards[range]);
                context.insert("paginator", &paginator);
                "reports.html"
            }
            Job::Report(r) => {
                self.report(&mut context, r, &root);
                "report.html"
            }
            Job::Lessons {
                scope,
                category,
                page,
            } => {
                self.lessons(&mut context, scope, category, page, &root);
                "lessons.html"
            }
            Job::Actions { scope, state, page } => {
                self.actions(&mut context, scope, state, page, &root);
                "actions.html"
            }
            Job::Taxonomy(kind) => {
                self.taxonomy(&mut context, kind);
                "taxonomy.html"
            }
            Job::Term { kind, term, page } => {
                self.term(&mut context, kind, term, page, &root);
                "term.html"
            }
            // Everything it shows comes from the worker; the page is the form and the frame.
            Job::Search => "search.html",
            Job::NotFound => {
                context.insert("root", &site_path(&self.config.base_url));
                "404.html"
            }
            Job::Feed => {
                let newest = &self.cards[..self.cards.len().min(30)];
                let updated = self
                    .site
                    .reports
                    .first()
                    .map_or(self.site.today, |r| r.meta.date);
                context.insert("reports", newest);
                context.insert("updated", &format!("{updated}T00:00:00Z"));
                "atom.xml"
            }
            Job::Sitemap => {
                #[derive(Serialize)]
                struct Loc {
                    permalink: String,
                }
                let pages: Vec<Loc> = all_paths
                    .iter()
                    .filter(|p| p.ends_with(".html") && p.as_str() != "404.html")
                    .map(|p| Loc {
                        permalink: self.permalink(p),
                    })
                    .collect();
                context.insert("pages", &pages);
                "sitemap.xml"
            }
            Job::Json => {
                let json = ReportsJson::new(self.site, &self.config.base_url);
                return Ok(Output {
                    path,
                    body: Body::Json(Box::new(json)),
                });
            }
        };
        context.insert(
            "page",
            &PageInfo {
                path: &path,
                permalink: self.permalink(&path),
                section: section_of(job),
            },
        );
        buffer.clear();
        self.theme.render_to(template, &context, &mut buffer)?;
        Ok(Output {
            path,
            body: Body::Bytes(buffer),
        })
    }

    fn permalink(&self, path: &str) -> String {
        format!(
            "{}{}",
            self.config.base_url,
            path.strip_suffix("index.html").unwrap_or(path)
        )
    }

    fn lessons_base(&self, scope: Scope, category: Option<usize>) -> String {
        match (scope, category) {
            (Scope::All, None) => "lessons/".into(),
            (Scope::All, Some(c)) => format!("lessons/category/{}/", self.lists.categories[c].slug),
            (Scope::Term(kind, t), _) => format!("{}lessons/", self.term_base(kind, t)),
        }
    }

    fn actions_base(&self, scope: Scope, state: State) -> String {
        match scope {
            Scope::All => format!("actions/{}", state.segment()),
            Scope::Term(kind, t) => {
                format!("{}actions/{}", self.term_base(kind, t), state.segment())
            }
        }
    }

    fn term_base(&self, kind: TaxonomyKind, term: usize) -> String {
        format!(
            "{}/{}/",
            kind.slug(),
            self.site.taxonomy(kind).terms[term].slug
        )
    }

    fn paginate(
        &self,
        total: usize,
        page: usize,
        base: &str,
    ) -> (std::ops::Range<usize>, Option<Paginator>) {
        let size = self.config.paginate;
        let total_pages = total.div_ceil(size).max(1);
        let start = ((page - 1) * size).min(total);
        let range = start..(start + size).min(total);
        if total_pages == 1 {
            return (range, None);
        }
        let url = |n: usize| page_path(base, n);
        let paginator = Paginator {
            current: page,
            total_pages,
            total_items: total,
            prev_url: (page > 1).then(|| url(page - 1)),
            next_url: (page < total_pages).then(|| url(page + 1)),
            // The first, the last and the pages near this one: a list of 1,000 pages would
            // otherwise hand every page all 1,000 links, quadratic in the list's length.
            pages: (1..=total_pages)
                .filter(|&n| n == 1 || n == total_pages || n.abs_diff(page) <= 3)
                .map(|number| PageLink {
                    number,
                    url: url(number),
                    current: number == page,
                })
                .collect(),
        };
        (range, Some(paginator))
    }

    fn lesson_view(&self, (r, l): Ref, root: &str) -> LessonView<'s> {
        let report = &self.site.reports[r as usize];
        let report_ref = &self.report_refs[r as usize];
        LessonView::new(report, report_ref, &report.lessons[l as usize], root)
    }

    fn action_view(&self, (r, a): Ref, root: &str) -> ActionView<'s> {
        let report = &self.site.reports[r as usize];
        let report_ref = &self.report_refs[r as usize];
        ActionView::new(
            report,
            report_ref,
            &report.actions[a as usize],
            root,
            self.site.today,
        )
    }

    fn home(&self, context: &mut Context, root: &str) {
        context.insert("recent", &self.cards[..self.cards.len().min(15)]);
        let overdue: Vec<ActionView<'_>> = self.lists.actions[&(Scope::All, State::Overdue)]
            .iter()
            .take(10)
            .map(|&a| self.action_view(a, root))
            .collect();
        context.insert("overdue", &overdue);
        let upcoming: Vec<ActionView<'_>> = self
            .upcoming()
            .take(10)
            .map(|a| self.action_view(a, root))
            .collect();
        context.insert("open_actions", &upcoming);
        for (key, kind) in [
            ("top_services", TaxonomyKind::Services),
            ("top_tags", TaxonomyKind::Tags),
        ] {
            let top: Vec<NamedCount> = self
                .site
                .taxonomy(kind)
                .terms
                .iter()
                .take(10)
                .map(|t| NamedCount {
                    name: t.name.clone(),
                    url: term_path(kind, &t.slug),
                    count: t.reports.len(),
                })
                .collect();
            context.insert(key, &top);
        }
    }

    fn report(&self, context: &mut Context, r: usize, root: &str) {
        let report: &Report = &self.site.reports[r];
        let meta = &report.meta;
        #[derive(Serialize)]
        struct TimelineView {
            detected: Option<String>,
            started: Option<String>,
            ended: Option<String>,
            outcome: Option<crate::model::Outcome>,
        }
        #[derive(Serialize)]
        struct CategoryCount<'a> {
            name: Option<&'a str>,
            count: usize,
        }
        #[derive(Serialize)]
        struct ReportView<'a> {
            #[serde(flatten)]
            card: &'a Card,
            authors: &'a [String],
            release: Option<&'a crate::model::Release>,
            timeline: Option<TimelineView>,
            people: &'a [crate::model::Person],
            extra: &'a serde_json::Map<String, serde_json::Value>,
            toc: Vec<&'a crate::model::Heading>,
            content: std::borrow::Cow<'a, str>,
            source: String,
            lessons: Vec<LessonView<'a>>,
            actions: Vec<ActionView<'a>>,
            lesson_categories: Vec<CategoryCount<'a>>,
            related: Vec<RelatedView<'a>>,
        }
        #[derive(Serialize)]
        struct RelatedView<'a> {
            #[serde(flatten)]
            card: &'a Card,
            reason: &'a str,
        }
        let mut lesson_categories: Vec<CategoryCount<'_>> = Vec::new();
        for lesson in &report.lessons {
            let name = lesson.category.as_deref();
            match lesson_categories.iter_mut().find(|c| c.name == name) {
                Some(c) => c.count += 1,
                None => lesson_categories.push(CategoryCount { name, count: 1 }),
            }
        }
        let view = ReportView {
            card: &self.cards[r],
            authors: &meta.authors,
            release: meta.release.as_ref(),
            timeline: meta.timeline.as_ref().map(|t| TimelineView {
                detected: t.detected.map(display_time),
                started: t.started.map(display_time),
                ended: t.ended.map(display_time),
                outcome: t.outcome,
            }),
            people: &meta.people,
            extra: &meta.extra,
            toc: report.toc.iter().filter(|h| h.level >= 2).collect(),
            content: with_root(&report.html, root),
            source: crate::load::slash_path(&report.source),
            lessons: report
                .lessons
                .iter()
                .map(|l| LessonView::new(report, &self.report_refs[r], l, root))
                .collect(),
            actions: report
                .actions
                .iter()
                .map(|a| ActionView::new(report, &self.report_refs[r], a, root, self.site.today))
                .collect(),
            lesson_categories,
            related: self.site.related[r]
                .iter()
                .map(|rel| RelatedView {
                    card: &self.cards[rel.report],
                    reason: &rel.reason,
                })
                .collect(),
        };
        context.insert("report", &view);
        context.insert("newer", &r.checked_sub(1).map(|i| &self.cards[i]));
        context.insert("older", &self.cards.get(r + 1));
    }

    fn term_info(&self, scope: Scope) -> Option<serde_json::Value> {
        let Scope::Term(kind, t) = scope else {
            return None;
        };
        let term = &self.site.taxonomy(kind).terms[t];
        Some(serde_json::json!({
            "kind": kind.slug(),
            "singular": kind.singular(),
            "name": term.name,
            "url": term_path(kind, &term.slug),
        }))
    }

    fn lessons(
        &self,
        context: &mut Context,
        scope: Scope,
        category: Option<usize>,
        page: usize,
        root: &str,
    ) {
        let list = match category {
            Some(c) => &self.lists.categories[c].lessons,
            None => &self.lists.lessons[&scope],
        };
        let base = self.lessons_base(scope, category);
        let (range, paginator) = self.paginate(list.len(), page, &base);
        let refs = &list[range];
        let lessons: Vec<Value> = refs
            .iter()
            .map(|&l| Value::from_serializable(&self.lesson_view(l, root)))
            .collect();
        let groups = lesson_groups(refs, &lessons, &self.report_refs);
        #[derive(Serialize)]
        struct CategoryLink<'a> {
            name: Option<&'a str>,
            url: String,
            count: usize,
            current: bool,
        }
        let categories: Vec<CategoryLink<'_>> = if scope == Scope::All {
            std::iter::once(CategoryLink {
                name: None,
                url: "lessons/index.html".into(),
                count: self.lists.lessons[&Scope::All].len(),
                current: category.is_none(),
            })
            .chain(
                self.lists
                    .categories
                    .iter()
                    .enumerate()
                    .map(|(c, cat)| CategoryLink {
                        name: Some(&cat.name),
                        url: format!("lessons/category/{}/index.html", cat.slug),
                        count: cat.lessons.len(),
                        current: category == Some(c),
                    }),
            )
            .collect()
        } else {
            Vec::new()
        };
        context.insert_value("lessons", Value::from(lessons));
        context.insert_value("lesson_groups", groups);
        context.insert("paginator", &paginator);
        context.insert("categories", &categories);
        context.insert(
            "category",
            &category.map(|c| &self.lists.categories[c].name),
        );
        let filters: &[FilterGroup] = if scope == Scope::All && category.is_none() {
            &self.lesson_filters
        } else {
            &[]
        };
        context.insert("filters", filters);
        context.insert("term", &self.term_info(scope));
        context.insert("total", &list.len());
    }

    fn actions(&self, context: &mut Context, scope: Scope, state: State, page: usize, root: &str) {
        let list = &self.lists.actions[&(scope, state)];
        let (range, paginator) = self.paginate(list.len(), page, &self.actions_base(scope, state));
        let actions: Vec<ActionView<'_>> = list[range]
            .iter()
            .map(|&a| self.action_view(a, root))
            .collect();
        #[derive(Serialize)]
        struct StateLink {
            state: &'static str,
            label: &'static str,
            url: String,
            count: usize,
            current: bool,
        }
        let available: &[State] = if scope == Scope::All {
            &State::ORDER
        } else {
            &TERM_STATES
        };
        let states: Vec<StateLink> = available
            .iter()
            .map(|&s| StateLink {
                state: s.name(),
                label: s.label(),
                url: page_path(&self.actions_base(scope, s), 1),
                count: self.lists.actions[&(scope, s)].len(),
                current: s == state,
            })
            .collect();
        context.insert("actions", &actions);
        context.insert("paginator", &paginator);
        context.insert("state", state.name());
        let filters: &[FilterGroup] = if scope == Scope::All && state == State::Open {
            &self.action_filters
        } else {
            &[]
        };
        context.insert("filters", filters);
        context.insert("states", &states);
        context.insert("term", &self.term_info(scope));
        context.insert("total", &list.len());
    }

    /// Links to the same list for one service, tag or team: the terms with the most entries
    /// first, and a link to every term. Only site-wide lists get them.
    fn filters(
        &self,
        count: impl Fn(Scope) -> usize,
        list_url: impl Fn(Scope) -> String,
    ) -> Vec<FilterGroup> {
        [
            TaxonomyKind::Services,
            TaxonomyKind::Tags,
            TaxonomyKind::Teams,
        ]
        .into_iter()
        .map(|kind| {
            let mut terms: Vec<NamedCount> = self
                .site
                .taxonomy(kind)
                .terms
                .iter()
                .enumerate()
                .map(|(t, term)| {
                    let scope = Scope::Term(kind, t);
                    NamedCount {
                        name: term.name.clone(),
                        url: list_url(scope),
                        count: count(scope),
                    }
                })
                .filter(|t| t.count > 0)
                .collect();
            terms.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
            let total = terms.len();
            terms.truncate(12);
            FilterGroup {
                kind: kind.slug(),
                title: kind.singular(),
                all_url: format!("{}/index.html", kind.slug()),
                total,
                terms,
            }
        })
        .filter(|g| !g.terms.is_empty())
        .collect()
    }

    fn taxonomy_view(kind: TaxonomyKind) -> serde_json::Value {
        serde_json::json!({
            "kind": kind.slug(),
            "title": kind.title(),
            "singular": kind.singular(),
            "url": format!("{}/index.html", kind.slug()),
        })
    }

    fn taxonomy(&self, context: &mut Context, kind: TaxonomyKind) {
        #[derive(Serialize)]
        struct TermSummary<'a> {
            name: &'a str,
            url: String,
            reports: usize,
            lessons: usize,
            open_actions: usize,
            overdue_actions: usize,
            last_date: Option<String>,
        }
        let terms: Vec<TermSummary<'_>> = self
            .site
            .taxonomy(kind)
            .terms
            .iter()
            .enumerate()
            .map(|(t, term)| {
                let scope = Scope::Term(kind, t);
                TermSummary {
                    name: &term.name,
                    url: term_path(kind, &term.slug),
                    reports: term.reports.len(),
                    lessons: self.lists.lessons[&scope].len(),
                    open_actions: self.lists.actions[&(scope, State::Open)].len(),
                    overdue_actions: self.overdue_in(scope),
                    last_date: term
                        .reports
                        .first()
                        .map(|&r| self.site.reports[r].meta.date.to_string()),
                }
            })
            .collect();
        context.insert("taxonomy", &Self::taxonomy_view(kind));
        context.insert("terms", &terms);
    }

    fn overdue_in(&self, scope: Scope) -> usize {
        self.lists.actions[&(scope, State::Overdue)].len()
    }

    fn term(&self, context: &mut Context, kind: TaxonomyKind, t: usize, page: usize, root: &str) {
        let term = &self.site.taxonomy(kind).terms[t];
        let scope = Scope::Term(kind, t);
        let (range, paginator) = self.paginate(term.reports.len(), page, &self.term_base(kind, t));
        let reports: Vec<&Card> = term.reports[range]
            .iter()
            .map(|&r| &self.cards[r])
            .collect();
        let lessons: Vec<LessonView<'_>> = self.lists.lessons[&scope]
            .iter()
            .take(8)
            .map(|&l| self.lesson_view(l, root))
            .collect();
        let open_actions: Vec<ActionView<'_>> = self.lists.actions[&(scope, State::Open)]
            .iter()
            .take(8)
            .map(|&a| self.action_view(a, root))
            .collect();
        let info = serde_json::json!({
            "name": term.name,
            "url": term_path(kind, &term.slug),
            "reports": term.reports.len(),
            "lessons": self.lists.lessons[&scope].len(),
            "open_actions": self.lists.actions[&(scope, State::Open)].len(),
            "overdue_actions": self.overdue_in(scope),
            "lessons_url": has_term_lists(kind).then(|| page_path(&self.lessons_base(scope, None), 1)),
            "actions_url": has_term_lists(kind).then(|| page_path(&self.actions_base(scope, State::Open), 1)),
        });
        context.insert("taxonomy", &Self::taxonomy_view(kind));
        context.insert("term", &info);
        context.insert("reports", &reports);
        context.insert("paginator", &paginator);
        context.insert("lessons", &lessons);
        context.insert("open_actions", &open_actions);
    }
}

/// A list's lessons by report: `[{report, lessons}]`, each report once with its lessons, in
/// the list's order (`refs`, whose values are `lessons`); `report_refs` are the reports'
/// [`ReportRef`]s, which the lessons share. Lessons come newest first, so the lessons of one
/// report are neighbours; grouping them in the template, comparing each lesson's report with
/// its neighbours', took a quarter of the lesson lists' rendering time.
fn lesson_groups(refs: &[Ref], lessons: &[Value], report_refs: &[Value]) -> Value {
    let groups: Vec<Value> = refs
        .chunk_by(|a, b| a.0 == b.0)
        .scan(0, |start, run| {
            let values = &lessons[*start..*start + run.len()];
            *start += run.len();
            let mut group = tera::Map::default();
            group.insert("report".into(), report_refs[run[0].0 as usize].clone());
            group.insert("lessons".into(), Value::from(values.to_vec()));
            Some(Value::from(group))
        })
        .collect();
    Value::from(groups)
}

/// Whether a term has pages of all its lessons and open actions: services, tags and teams
/// do. A severity or a year covers a large share of all reports, so its page shows its
/// reports and its latest lessons and open actions, and the site-wide lists hold the rest.
fn has_term_lists(kind: TaxonomyKind) -> bool {
    matches!(
        kind,
        TaxonomyKind::Services | TaxonomyKind::Tags | TaxonomyKind::Teams
    )
}

/// Actions pages per term: the open actions (DESIGN §4). Every action, done ones included,
/// is on the site-wide lists; a per-term copy of those would double the term pages.
const TERM_STATES: [State; 1] = [State::Open];

impl Lists {
    /// Every list at once. Scopes are numbered while the lists are filled (0 is the whole
    /// site, then each term), and open actions are sorted once for the whole site and dealt
    /// to their scopes in that order: `serve` does this after every edit.
    fn new(site: &Site) -> Lists {
        let mut scopes: Vec<Scope> = vec![Scope::All];
        let mut scopes_of: Vec<Vec<u32>> = vec![vec![0]; site.reports.len()];
        for taxonomy in &site.taxonomies {
            for (t, term) in taxonomy.terms.iter().enumerate() {
                let scope = scopes.len() as u32;
                scopes.push(Scope::Term(taxonomy.kind, t));
                for &r in &term.reports {
                    scopes_of[r].push(scope);
                }
            }
        }
        // Lessons and actions are two independent halves.
        let ((lessons, categories), actions) = rayon::join(
            || lesson_lists(site, &scopes_of, scopes.len()),
            || action_lists(site, &scopes_of, scopes.len()),
        );
        let mut by_scope_state: FxHashMap<(Scope, State), Vec<Ref>> = FxHashMap::default();
        for (state, lists) in actions {
            by_scope_state.extend(scopes.iter().map(|&s| (s, state)).zip(lists));
        }
        Lists {
            lessons: scopes.iter().copied().zip(lessons).collect(),
            categories,
            actions: by_scope_state,
        }
    }
}

/// Every scope's lessons, and the lessons of each category (most lessons first).
fn lesson_lists(
    site: &Site,
    scopes_of: &[Vec<u32>],
    scopes: usize,
) -> (Vec<Vec<Ref>>, Vec<Category>) {
    let mut lessons: Vec<Vec<Ref>> = vec![Vec::new(); scopes];
    let mut categories: Vec<Category> = Vec::new();
    let mut category_by_slug: FxHashMap<String, usize> = FxHashMap::default();
    let mut category_by_name: FxHashMap<&str, usize> = FxHashMap::default();
    for (r, report) in site.reports.iter().enumerate() {
        for (l, lesson) in report.lessons.iter().enumerate() {
            let reference = (r as u32, l as u32);
            for &scope in &scopes_of[r] {
                lessons[scope as usize].push(reference);
            }
            let Some(name) = &lesson.category else {
                continue;
            };
            let c = match category_by_name.get(name.as_str()) {
                Some(&c) => c,
                None => {
                    let slug = slugify(name);
                    let c = *category_by_slug.entry(slug.clone()).or_insert_with(|| {
                        categories.push(Category {
                            name: name.clone(),
                            slug,
                            lessons: Vec::new(),
                        });
                        categories.len() - 1
                    });
                    category_by_name.insert(name, c);
                    c
                }
            };
            categories[c].lessons.push(reference);
        }
    }
    categories.sort_by(|a, b| {
        b.lessons
            .len()
            .cmp(&a.lessons.len())
            .then_with(|| a.name.cmp(&b.name))
    });
    (lessons, categories)
}

/// Every scope's actions by state. Open actions are sorted once for the whole site (most
/// overdue first, then due soonest, then undated) and dealt to their scopes in that order;
/// done ones stay in report order.
fn action_lists(site: &Site, scopes_of: &[Vec<u32>], scopes: usize) -> [(State, Vec<Vec<Ref>>); 3] {
    let today = site.today;
    let mut done: Vec<Vec<Ref>> = vec![Vec::new(); scopes];
    // (no due date, due date, report, action): the order of open actions, unique.
    type DueKey = (bool, Option<Date>, u32, u32);
    let mut open: Vec<(DueKey, bool)> = Vec::new();
    for (r, report) in site.reports.iter().enumerate() {
        for (a, action) in report.actions.iter().enumerate() {
            if action.done {
                for &scope in &scopes_of[r] {
                    done[scope as usize].push((r as u32, a as u32));
                }
            } else {
                let key = (action.due.is_none(), action.due, r as u32, a as u32);
                // Overdue: due before today (`Action::days_overdue`, without its arithmetic).
                open.push((key, action.due.is_some_and(|due| due < today)));
            }
        }
    }
    open.sort_unstable_by_key(|&(key, _)| key);
    let mut open_lists: Vec<Vec<Ref>> = vec![Vec::new(); scopes];
    let mut overdue_lists: Vec<Vec<Ref>> = vec![Vec::new(); scopes];
    for ((_, _, r, a), overdue) in open {
        for &scope in &scopes_of[r as usize] {
            open_lists[scope as usize].push((r, a));
            if overdue {
                overdue_lists[scope as usize].push((r, a));
            }
        }
    }
    [
        (State::Open, open_lists),
        (State::Overdue, overdue_lists),
        (State::Done, done),
    ]
}

pub(crate) fn hash_of(bytes: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    bytes.hash(&mut h);
    h.finish()
}

/// `base` + `index.html` for page 1, `base` + `page-N.html` after: one file per page, no
/// directory, so a list of 1,000 pages costs 1,000 inodes rather than 2,000.
fn page_path(base: &str, page: usize) -> String {
    if page <= 1 {
        format!("{base}index.html")
    } else {
        format!("{base}page-{page}.html")
    }
}

/// The way back from a page to the site root: `""`, `"../"`, `"../../"`…
fn root_of(path: &str) -> String {
    "../".repeat(path.matches('/').count())
}

/// The path part of the base URL, for the 404 page that can be served at any depth.
fn site_path(base_url: &str) -> String {
    let after_scheme = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest);
    match after_scheme.find('/') {
        Some(i) => after_scheme[i..].to_string(),
        None => "/".to_string(),
    }
}

fn section_of(job: &Job) -> &'static str {
    match job {
        Job::Home => "home",
        Job::Reports { .. } | Job::Report(_) => "reports",
        Job::Lessons {
            scope: Scope::All, ..
        } => "lessons",
        Job::Actions {
            scope: Scope::All, ..
        } => "actions",
        Job::Lessons {
            scope: Scope::Term(kind, _),
            ..
        }
        | Job::Actions {
            scope: Scope::Term(kind, _),
            ..
        }
        | Job::Taxonomy(kind)
        | Job::Term { kind, .. } => kind.slug(),
        Job::Search => "search",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_roots() {
        assert_eq!(page_path("lessons/", 1), "lessons/index.html");
        assert_eq!(page_path("lessons/", 3), "lessons/page-3.html");
        assert_eq!(root_of("index.html"), "");
        assert_eq!(root_of("reports/x.html"), "../");
        assert_eq!(root_of("services/x/lessons/index.html"), "../../../");
        assert_eq!(site_path("https://kb.example.com/sre/"), "/sre/");
        assert_eq!(site_path(""), "/");
    }

    #[test]
    fn lessons_are_grouped_by_neighbouring_report() {
        let report = |id: &str| Value::from_serializable(&serde_json::json!({"id": id}));
        let report_refs = [report("a"), report("b"), report("c")];
        let lesson = |report: &str, text: &str| {
            Value::from_serializable(&serde_json::json!({"text": text, "report": {"id": report}}))
        };
        // Report 0's third lesson comes after report 2's: a group of its own, as the template
        // that compared neighbours made it.
        let refs = [(0, 0), (0, 1), (2, 0), (0, 2)];
        let lessons = [
            lesson("a", "a0"),
            lesson("a", "a1"),
            lesson("c", "c0"),
            lesson("a", "a2"),
        ];
        let groups = lesson_groups(&refs, &lessons, &report_refs);
        let shown: Vec<(String, Vec<String>)> = groups
            .as_array()
            .expect("a list")
            .iter()
            .map(|g| {
                let g = g.as_map().expect("a map");
                let report = &g[&"report".into()].as_map().expect("a report")[&"id".into()];
                let texts = g[&"lessons".into()].as_array().expect("lessons");
                let texts = texts.iter().map(|l| {
                    l.as_map().expect("a lesson")[&"text".into()]
                        .as_str()
                        .expect("text")
                        .to_string()
                });
                (report.as_str().expect("an id").to_string(), texts.collect())
            })
            .collect();
        let expected = [
            ("a", vec!["a0", "a1"]),
            ("c", vec!["c0"]),
            ("a", vec!["a2"]),
        ];
        let expected: Vec<(String, Vec<String>)> = expected
            .iter()
            .map(|(r, ls)| (r.to_string(), ls.iter().map(|l| l.to_string()).collect()))
            .collect();
        assert_eq!(shown, expected);
        assert_eq!(
            lesson_groups(&[], &[], &report_refs)
                .as_array()
                .map(<[Value]>::len),
            Some(0)
        );
    }
}
