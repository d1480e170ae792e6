/*-------------------------------------------------------------------------
 *
 * plan.c
 *		Planning foreign scans of s3db resources.
 *
 * A scan either lists the resource's data prefix and fetches each record,
 * or, when the quals pin the id (id = c, id IN (...), id = ANY($1)), it
 * fetches those records directly without listing.  The id expressions go
 * into fdw_exprs so parameters of prepared statements and generic plans are
 * evaluated when the scan starts.  Every qual is also kept as a local qual:
 * rechecking is cheap and keeps the plan correct whatever the store holds.
 *
 * When no id is pinned but every field of a partition is compared with =
 * or IN, the scan lists that partition's reference prefixes instead of the
 * whole resource (the cheapest partition when several fit).  References
 * are hints: the records are fetched and the quals rechecked, so stale or
 * missing references never produce wrong rows.
 *
 * Pushdown is only ever an optimisation: a key names a record by the text
 * form of its id (and of its partition values), so a condition may select
 * keys only when "equal" means "the same text form".  That holds for the
 * equality of a type's default btree operator family, for the families
 * whose equal values print alike (text, integers, booleans), under a
 * deterministic collation.  Anything else (an operator merely named "=",
 * citext, a case-insensitive ICU collation, numeric where 1.0 = 1) is
 * left to the local quals.  s3db_fdw.enable_pushdown = off turns every
 * pushdown off, to compare.
 *
 * fdw_private of the ForeignScan:
 *	0: resource name (String)
 *	1: attnums the query needs (List of Integer)
 *	2: kind of each fdw_exprs entry: 0 = scalar, 1 = array
 *	3: the scan feeds an UPDATE or DELETE (Integer)
 *	4: partition name (String), or NULL
 *	5: for partitions, the field index of each fdw_exprs entry (List of Integer)
 *	6: LIMIT of a query over this table alone, 0 = none (Integer)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/sysattr.h"
#include "access/table.h"
#include "access/stratnum.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "optimizer/cost.h"
#include "parser/parsetree.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/typcache.h"

#include "fdw/s3db_fdw.h"

/* s3db_fdw.enable_pushdown */
bool		s3db_enable_pushdown = true;

typedef struct S3dbPlanInfo
{
	char	   *resource;
	AttrNumber	id_attnum;		/* column reading the record id, 0 if none */
	Bitmapset  *attrs_used;
	List	   *id_exprs;		/* expressions giving ids */
	List	   *id_kinds;		/* 0 scalar, 1 array */
	List	   *id_clauses;		/* RestrictInfos they came from */
	double		nids;			/* estimated number of ids (direct fetch) */
	bool		for_modify;		/* the scan feeds an UPDATE or DELETE */
	char	   *partition;		/* partition listed instead of the resource */
	List	   *part_fields;	/* field index of each id_exprs entry */
	double		nprefixes;
	bool		replace;		/* ... an UPDATE that does not read old values */
} S3dbPlanInfo;

/* Cost model: a request costs about as much as reading a few pages. */
#define S3DB_REQUEST_COST	10.0
#define S3DB_LIST_PAGE		1000.0
#define S3DB_DEFAULT_ROWS	1000.0

AttrNumber
s3db_id_column(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		char	   *field;

		if (att->attisdropped)
			continue;
		field = s3db_column_field(RelationGetRelid(rel), att->attnum, NameStr(att->attname));
		if (strcmp(field, "id") == 0)
			return att->attnum;
	}
	return 0;
}

static bool
is_id_var(Node *node, Index relid, AttrNumber id_attnum)
{
	Var		   *v;

	if (node && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	if (node == NULL || !IsA(node, Var))
		return false;
	v = (Var *) node;
	return (Index) v->varno == relid && v->varattno == id_attnum && v->varlevelsup == 0;
}

/* An expression we can evaluate at scan start: no Vars of this query level. */
static bool
is_scan_start_value(Node *node)
{
	return node != NULL && !contain_var_clause(node) &&
		!contain_volatile_functions(node);
}

/*
 * Whether a comparison of a column of type coltype may select keys: the
 * equality of the type's default btree operator family (cross-type members
 * included: bigint = integer), for a family whose equal values have one text
 * form, under a deterministic collation (or none).  An id is text, so only
 * the text family pins ids.
 */
static bool
key_equality(Oid opno, Oid inputcollid, Oid coltype, bool for_id)
{
	TypeCacheEntry *tce;
	Oid			opf;

	if (!s3db_enable_pushdown)
		return false;
	tce = lookup_type_cache(coltype, TYPECACHE_BTREE_OPFAMILY);
	opf = tce->btree_opf;
	if (!OidIsValid(opf))
		return false;
	if (for_id ? opf != TEXT_BTREE_FAM_OID :
		(opf != TEXT_BTREE_FAM_OID && opf != INTEGER_BTREE_FAM_OID &&
		 opf != BOOL_BTREE_FAM_OID))
		return false;
	if (get_op_opfamily_strategy(opno, opf) != BTEqualStrategyNumber)
		return false;
	if (OidIsValid(inputcollid) && !get_collation_isdeterministic(inputcollid))
		return false;
	return true;
}

/* The type of a column of the scanned relation. */
static Oid
column_type(PlannerInfo *root, RelOptInfo *baserel, AttrNumber attnum)
{
	RangeTblEntry *rte = planner_rt_fetch(baserel->relid, root);
	Oid			typid;
	int32		typmod;
	Oid			collid;

	get_atttypetypmodcoll(rte->relid, attnum, &typid, &typmod, &collid);
	return typid;
}

/*
 * Recognise "id = value", "value = id" and "id = ANY(array)" with the text
 * equality (see key_equality).
 */
static void
classify_id_quals(PlannerInfo *root, RelOptInfo *baserel, S3dbPlanInfo *pi)
{
	ListCell   *lc;
	Oid			idtype;

	if (pi->id_attnum == 0 || !s3db_enable_pushdown)
		return;
	idtype = column_type(root, baserel, pi->id_attnum);

	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);
		Expr	   *clause = ri->clause;

		if (IsA(clause, OpExpr))
		{
			OpExpr	   *op = (OpExpr *) clause;
			Node	   *l,
					   *r;

			if (list_length(op->args) != 2 ||
				!key_equality(op->opno, op->inputcollid, idtype, true))
				continue;
			l = linitial(op->args);
			r = lsecond(op->args);
			if (is_id_var(l, baserel->relid, pi->id_attnum) && is_scan_start_value(r))
				;
			else if (is_id_var(r, baserel->relid, pi->id_attnum) && is_scan_start_value(l))
				r = l;
			else
				continue;
			/* one equality pins the row set; prefer it over any IN list */
			pi->id_exprs = list_make1(r);
			pi->id_kinds = list_make1_int(0);
			pi->id_clauses = list_make1(ri);
			pi->nids = 1;
			return;
		}
		else if (IsA(clause, ScalarArrayOpExpr))
		{
			ScalarArrayOpExpr *sa = (ScalarArrayOpExpr *) clause;
			Node	   *arr;

			if (!sa->useOr || list_length(sa->args) != 2 ||
				!key_equality(sa->opno, sa->inputcollid, idtype, true))
				continue;
			if (!is_id_var(linitial(sa->args), baserel->relid, pi->id_attnum))
				continue;
			arr = lsecond(sa->args);
			if (!is_scan_start_value(arr))
				continue;
			if (pi->id_exprs == NIL)
			{
				pi->id_exprs = list_make1(arr);
				pi->id_kinds = list_make1_int(1);
				pi->id_clauses = list_make1(ri);
				pi->nids = IsA(arr, Const) && !((Const *) arr)->constisnull ?
					ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(((Const *) arr)->constvalue)),
								   ARR_DIMS(DatumGetArrayTypeP(((Const *) arr)->constvalue))) : 10;
			}
		}
	}
}

/*
 * Key equality (see key_equality) between a column of type coltype and a
 * scan-start value: the value, else NULL.
 */
static Node *
equality_value(Expr *clause, Index relid, AttrNumber attnum, Oid coltype, bool *is_array)
{
	if (IsA(clause, OpExpr))
	{
		OpExpr	   *op = (OpExpr *) clause;

		if (list_length(op->args) != 2 ||
			!key_equality(op->opno, op->inputcollid, coltype, false))
			return NULL;
		*is_array = false;
		if (is_id_var(linitial(op->args), relid, attnum) && is_scan_start_value(lsecond(op->args)))
			return lsecond(op->args);
		if (is_id_var(lsecond(op->args), relid, attnum) && is_scan_start_value(linitial(op->args)))
			return linitial(op->args);
	}
	else if (IsA(clause, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *sa = (ScalarArrayOpExpr *) clause;

		if (!sa->useOr || list_length(sa->args) != 2 ||
			!key_equality(sa->opno, sa->inputcollid, coltype, false))
			return NULL;
		*is_array = true;
		if (is_id_var(linitial(sa->args), relid, attnum) && is_scan_start_value(lsecond(sa->args)))
			return lsecond(sa->args);
	}
	return NULL;
}

static double
array_length_estimate(Node *arr)
{
	if (IsA(arr, Const) && !((Const *) arr)->constisnull)
	{
		ArrayType  *a = DatumGetArrayTypeP(((Const *) arr)->constvalue);

		return ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
	}
	return 10;
}

/*
 * Pick the partition whose every field has an = or IN qual, listing the
 * fewest prefixes (more fields first on ties).
 */
static void
classify_partition_quals(RelOptInfo *baserel, Relation rel, const s3f_resource *res,
						 S3dbPlanInfo *pi)
{
	TupleDesc	desc = RelationGetDescr(rel);
	double		best_cost = -1;

	for (int p = 0; p < res->nparts; p++)
	{
		const s3f_partition *part = &res->parts[p];
		List	   *exprs = NIL;
		List	   *kinds = NIL;
		List	   *fields = NIL;
		double		cost = 1;
		bool		ok = true;

		for (int f = 0; f < part->nfields && ok; f++)
		{
			AttrNumber	attnum = 0;
			Oid			coltype = InvalidOid;
			Node	   *val = NULL;
			bool		is_array = false;
			ListCell   *lc;

			for (int i = 0; i < desc->natts; i++)
			{
				Form_pg_attribute att = TupleDescAttr(desc, i);

				if (!att->attisdropped &&
					strcmp(s3db_column_field(RelationGetRelid(rel), att->attnum,
											 NameStr(att->attname)), part->fields[f]) == 0)
				{
					attnum = att->attnum;
					coltype = att->atttypid;
				}
			}
			if (attnum == 0)
			{
				ok = false;
				break;
			}
			foreach(lc, baserel->baserestrictinfo)
			{
				RestrictInfo *ri = lfirst_node(RestrictInfo, lc);
				bool		arr;
				Node	   *v = equality_value(ri->clause, baserel->relid, attnum, coltype, &arr);

				if (v && (val == NULL || (is_array && !arr)))
				{
					val = v;
					is_array = arr;
				}
			}
			if (val == NULL)
				ok = false;
			else
			{
				exprs = lappend(exprs, val);
				kinds = lappend_int(kinds, is_array ? 1 : 0);
				fields = lappend_int(fields, f);
				cost *= is_array ? array_length_estimate(val) : 1;
			}
		}
		if (ok && part->nfields > 0 &&
			(best_cost < 0 || cost < best_cost ||
			 (cost == best_cost && part->nfields > list_length(pi->part_fields))))
		{
			best_cost = cost;
			pi->partition = pstrdup(part->name);
			pi->id_exprs = exprs;
			pi->id_kinds = kinds;
			pi->part_fields = fields;
			pi->nprefixes = cost;
		}
	}
}

void
s3dbGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	S3dbPlanInfo *pi = palloc0(sizeof(S3dbPlanInfo));
	S3dbTableOptions topts;
	Relation	rel;
	ListCell   *lc;
	Oid			userid;

	s3db_table_options(foreigntableid, &topts);
	pi->resource = topts.resource;
	/* the user the scan will run as: a view's owner, else the current user */
	userid = OidIsValid(baserel->userid) ? baserel->userid : GetUserId();

	rel = table_open(foreigntableid, NoLock);
	pi->id_attnum = s3db_id_column(rel);
	pi->for_modify = (Index) root->parse->resultRelation == baserel->relid &&
		(root->parse->commandType == CMD_UPDATE || root->parse->commandType == CMD_DELETE);

	/*
	 * An UPDATE that sets every attribute from values not read from the row
	 * does not need the old record: the scan only finds the ids (and ETags).
	 * Not with row triggers (they see the old row) nor with partitions (the
	 * old references must be found).
	 */
	if (pi->for_modify && root->parse->commandType == CMD_UPDATE &&
		!(rel->trigdesc && (rel->trigdesc->trig_update_before_row ||
							rel->trigdesc->trig_update_after_row)))
	{
		S3dbConn   *conn = s3db_get_conn(topts.serverid, userid);
		S3dbCatalog *cat = s3db_conn_catalog(conn);
		const s3f_resource *res = s3f_catalog_find(cat->cat, topts.resource);

		pi->replace = res != NULL && res->nparts == 0 &&
			s3db_update_is_replace(root, baserel->relid, rel, root->update_colnos);
	}
	table_close(rel, NoLock);

	/* columns needed by the target list and by local quals */
	if (!pi->replace)
		pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid, &pi->attrs_used);
	else if (pi->id_attnum)
		pi->attrs_used = bms_add_member(pi->attrs_used,
										pi->id_attnum - FirstLowInvalidHeapAttributeNumber);
	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);

		pull_varattnos((Node *) ri->clause, baserel->relid, &pi->attrs_used);
	}

	classify_id_quals(root, baserel, pi);
	if (pi->id_exprs == NIL && s3db_enable_pushdown)
	{
		S3dbConn   *conn = s3db_get_conn(topts.serverid, userid);
		S3dbCatalog *cat = s3db_conn_catalog(conn);
		const s3f_resource *res = s3f_catalog_find(cat->cat, topts.resource);

		if (res != NULL && res->nparts > 0)
		{
			rel = table_open(foreigntableid, NoLock);
			classify_partition_quals(baserel, rel, res, pi);
			table_close(rel, NoLock);
		}
	}

	if (pi->id_exprs != NIL && pi->partition == NULL)
		baserel->rows = pi->nids;
	else
	{
		double		tuples = baserel->tuples;

		/* never analyzed: ask the store for one LIST page */
		if (tuples <= 0)
			tuples = s3db_estimate_rows(s3db_get_conn(topts.serverid, userid),
										topts.resource);

		baserel->rows = clamp_row_est(tuples *
									  clauselist_selectivity(root, baserel->baserestrictinfo,
															 0, JOIN_INNER, NULL));
		if (baserel->tuples <= 0)
			baserel->tuples = tuples;
	}
	baserel->fdw_private = pi;
}

/* Equivalence-class callback: clauses that equate our id column. */
static bool
ec_matches_id(PlannerInfo *root, RelOptInfo *rel, EquivalenceClass *ec,
			  EquivalenceMember *em, void *arg)
{
	AttrNumber	id_attnum = *(AttrNumber *) arg;

	return is_id_var((Node *) em->em_expr, rel->relid, id_attnum);
}

/*
 * Parameterized paths for joins on the id: with the outer row's value the
 * scan fetches one record directly instead of listing the resource, which
 * makes a nested loop over a few outer rows far cheaper than a hash join
 * over the whole resource.
 */
static void
add_id_join_paths(PlannerInfo *root, RelOptInfo *baserel, S3dbPlanInfo *pi)
{
	List	   *clauses;
	ListCell   *lc;
	Oid			idtype;

	if (pi->id_attnum == 0 || pi->id_exprs != NIL || !s3db_enable_pushdown)
		return;
	idtype = column_type(root, baserel, pi->id_attnum);
	clauses = generate_implied_equalities_for_column(root, baserel, ec_matches_id,
													 &pi->id_attnum,
													 baserel->lateral_referencers);
	foreach(lc, baserel->joininfo)
		clauses = lappend(clauses, lfirst(lc));

	foreach(lc, clauses)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);
		Relids		required = bms_difference(ri->clause_relids, baserel->relids);
		ParamPathInfo *ppi;
		Cost		cost = 2 * S3DB_REQUEST_COST;

		if (!IsA(ri->clause, OpExpr) ||
			!key_equality(((OpExpr *) ri->clause)->opno, ((OpExpr *) ri->clause)->inputcollid,
						  idtype, true) ||
			bms_is_empty(required) || bms_overlap(required, baserel->relids))
			continue;
		if (!is_id_var(linitial(((OpExpr *) ri->clause)->args), baserel->relid, pi->id_attnum) &&
			!is_id_var(lsecond(((OpExpr *) ri->clause)->args), baserel->relid, pi->id_attnum))
			continue;
		ppi = get_baserel_parampathinfo(root, baserel, required);
		add_path(baserel, (Path *)
				 create_foreignscan_path(root, baserel, NULL, 1, 0, cost / 2, cost, NIL,
										 required, NULL, NIL, NIL));
		(void) ppi;
	}
}

void
s3dbGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	S3dbPlanInfo *pi = (S3dbPlanInfo *) baserel->fdw_private;
	Cost		startup;
	Cost		total;

	if (pi->partition != NULL)
	{
		/* a LIST per prefix, a fetch per matching row */
		startup = S3DB_REQUEST_COST;
		total = startup + pi->nprefixes * S3DB_REQUEST_COST +
			baserel->rows * (S3DB_REQUEST_COST / 4 + cpu_tuple_cost);
	}
	else if (pi->id_exprs != NIL)
	{
		startup = S3DB_REQUEST_COST;
		total = startup + pi->nids * S3DB_REQUEST_COST + baserel->rows * cpu_tuple_cost;
	}
	else
	{
		double		tuples = baserel->tuples;

		startup = S3DB_REQUEST_COST;
		total = startup + ceil(tuples / S3DB_LIST_PAGE) * S3DB_REQUEST_COST +
			tuples * (S3DB_REQUEST_COST / 4 + cpu_tuple_cost);
	}

	add_id_join_paths(root, baserel, pi);

	add_path(baserel, (Path *)
			 create_foreignscan_path(root, baserel, NULL, baserel->rows, 0,
									 startup, total, NIL, baserel->lateral_relids,
									 NULL, NIL, NIL));
}

ForeignScan *
s3dbGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid,
				   ForeignPath *best_path, List *tlist, List *scan_clauses,
				   Plan *outer_plan)
{
	S3dbPlanInfo *pi = (S3dbPlanInfo *) baserel->fdw_private;
	List	   *attnums = NIL;
	List	   *fdw_private;
	int			x = -1;

	/* a parameterized path: the join clause on the id gives the id */
	if (best_path->path.param_info != NULL && pi->id_exprs == NIL)
	{
		ListCell   *lc;

		foreach(lc, best_path->path.param_info->ppi_clauses)
		{
			RestrictInfo *ri = lfirst_node(RestrictInfo, lc);
			OpExpr	   *op = (OpExpr *) ri->clause;
			Node	   *other;

			if (!IsA(op, OpExpr) ||
				!key_equality(op->opno, op->inputcollid,
							  column_type(root, baserel, pi->id_attnum), true))
				continue;
			if (is_id_var(linitial(op->args), baserel->relid, pi->id_attnum))
				other = lsecond(op->args);
			else if (is_id_var(lsecond(op->args), baserel->relid, pi->id_attnum))
				other = linitial(op->args);
			else
				continue;
			if (contain_volatile_functions(other) ||
				bms_is_member(baserel->relid, pull_varnos(root, other)))
				continue;
			pi->id_exprs = list_make1(other);
			pi->id_kinds = list_make1_int(0);
			break;
		}
	}

	scan_clauses = extract_actual_clauses(scan_clauses, false);

	while ((x = bms_next_member(pi->attrs_used, x)) >= 0)
	{
		AttrNumber	attno = x + FirstLowInvalidHeapAttributeNumber;

		if (attno == 0)
		{
			/* whole-row reference: every column */
			Relation	rel = table_open(foreigntableid, NoLock);

			for (int i = 1; i <= RelationGetDescr(rel)->natts; i++)
				if (!list_member_int(attnums, i))
					attnums = lappend_int(attnums, i);
			table_close(rel, NoLock);
		}
		else if (attno > 0 && !list_member_int(attnums, attno))
			attnums = lappend_int(attnums, attno);
	}

	fdw_private = list_make4(makeString(pi->resource), attnums, pi->id_kinds,
							 makeInteger(!pi->for_modify ? 0 :
										 (pi->replace || (root->parse->commandType == CMD_DELETE &&
														  root->parse->returningList == NIL)) ? 1 : 2));
	fdw_private = lappend(fdw_private, pi->partition ? makeString(pi->partition) : NULL);
	fdw_private = lappend(fdw_private, pi->part_fields);
	/* a LIMIT on a query over this table alone: fetch no more than needed */
	fdw_private = lappend(fdw_private,
						  makeInteger(s3db_enable_pushdown && root->limit_tuples > 0 &&
									  bms_membership(root->all_baserels) == BMS_SINGLETON ?
									  (int) Min(root->limit_tuples, INT_MAX) : 0));

	return make_foreignscan(tlist, scan_clauses, baserel->relid,
							pi->id_exprs, fdw_private, NIL, NIL, outer_plan);
}
