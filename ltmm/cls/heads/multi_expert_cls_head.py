"""Multi-expert classifier head (RIDE; TLC's evidential fusion; SADE's weighted aggregation; BalPoE's mixup
targets and test-time bias)."""
import json
import os
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.evaluation.metrics import Accuracy
from mmpretrain.models.heads import ClsHead
from mmpretrain.structures import DataSample

from ...core.registry import register_into
from ..losses.base import fill_loss_num_classes
from ..losses.tlc_loss import check_fusion, evidential_fusion
from .cosine_cls_head import cosine_logits, init_unit_rows_

ExpertWeights = Union[None, Sequence[float], str, os.PathLike]
FUSIONS = ('evidential', 'weighted')


def load_expert_weights(weights: ExpertWeights, num_experts: int) -> Optional[torch.Tensor]:
    """Expert weights (K,), float32, normalised to sum to 1, or None for none.

    Args:
        weights: None; a list of ``K`` non-negative numbers; or the path of a JSON file holding such a list, or a
            dict whose ``"weights"`` entry is one (what ``tools/sade_aggregate.py`` writes with
            :func:`save_expert_weights`).
        num_experts: ``K``.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: unreadable JSON, a length other than ``K``, a negative or non-finite weight, or all zeros.
    """
    if weights is None:
        return None
    source = 'the list'
    if isinstance(weights, (str, os.PathLike)):
        source = os.fspath(weights)
        if not osp.isfile(source):
            raise FileNotFoundError(f'expert weights file {source!r} does not exist (write it with '
                                    'tools/sade_aggregate.py)')
        with open(source, encoding='utf-8') as f:
            try:
                content = json.load(f)
            except json.JSONDecodeError as e:
                raise ValueError(f'expert weights file {source!r} is not JSON: {e}') from e
        weights = content.get('weights') if isinstance(content, dict) else content
    try:
        values = torch.tensor([float(w) for w in weights], dtype=torch.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f'expert weights from {source} must be a list of numbers, got {weights!r}') from e
    if values.numel() != num_experts:
        raise ValueError(f'expert weights from {source}: {values.numel()} values for num_experts={num_experts}')
    if not torch.isfinite(values).all() or (values < 0).any() or values.sum() <= 0:
        raise ValueError(f'expert weights from {source} must be finite, >= 0 and not all zero, got {values.tolist()}')
    return (values / values.sum()).float()


def save_expert_weights(path: Union[str, os.PathLike], weights: Sequence[float], **record) -> str:
    """Write expert weights as the JSON file :func:`load_expert_weights` reads: ``{"weights": [...], **record}``
    (``record``: anything JSON-serialisable describing how they were learned). Returns the path."""
    path = os.fspath(path)
    if osp.dirname(path):
        os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(dict(weights=[float(w) for w in weights], **record), f, indent=2)
        f.write('\n')
    return path


class ExpertRouter(nn.Module):
    """RIDE's expert-assignment module (stage 2; ``model/fb_resnets/EAResNet.py``, ``expert_help_pred*``): after
    ``k + 1`` experts, predict whether expert ``k + 1`` should be consulted from the L2-normalised pooled feature of
    expert ``k`` and the top ``top_k`` values of the mean logits of experts ``0..k``:
    ``fc([top_k(mean logits), relu(hidden_k(x_k / |x_k|))])``, one ``hidden_k`` per decision, ``fc`` shared.

    Args:
        in_channels: feature dimension of one expert.
        num_experts: ``K`` (``K - 1`` decisions).
        top_k: number of top mean logits in the input (``top_choices_num``: 30 on CIFAR-100, 50 on ImageNet-LT).
        hidden_channels: width of ``hidden_k``. Default 16 (official).
    """

    def __init__(self, in_channels: int, num_experts: int, top_k: int, hidden_channels: int = 16) -> None:
        super().__init__()
        self.top_k = top_k
        self.hidden = nn.ModuleList(nn.Linear(in_channels, hidden_channels) for _ in range(num_experts - 1))
        self.fc = nn.Linear(hidden_channels + top_k, 1)
        for linear in [*self.hidden, self.fc]:  # the official ``_weights_init``: Kaiming-normal weights
            nn.init.kaiming_normal_(linear.weight)

    def forward(self, feats: torch.Tensor, mean_logits: torch.Tensor, k: int) -> torch.Tensor:
        """Logit of "consult expert ``k + 1``", shape (N,), from expert ``k``'s features (N, D) and the mean logits
        of experts ``0..k`` (N, C)."""
        hidden = F.relu(self.hidden[k](F.normalize(feats, dim=1)))
        return self.fc(torch.cat([mean_logits.topk(self.top_k, dim=1).values, hidden], dim=1)).squeeze(1)


@register_into('MODELS', scopes=('mmpretrain',))
class MultiExpertClsHead(ClsHead):
    """``K`` cosine classifiers scaled by ``s``, one per expert feature; the prediction is the mean of the expert
    logits (Wang et al., "Long-tailed Recognition by Routing Diverse Distribution-Aware Experts" (RIDE), ICLR 2021;
    frank-xwang/RIDE-LongTailRecognition: ``linears[k]`` = ``NormedLinear`` x ``s=30``, output = mean over experts).

    The input is the pooled output of a multi-expert backbone (``RIDEResNet``, ``RIDEResNeXt``, ``ResNet32CIFAR``
    with ``num_experts=K``): the ``K`` expert features concatenated, shape (N, K * in_channels), expert ``k``
    owning ``[k * in_channels, (k + 1) * in_channels)``.

    Stage 1 (``router=None``): ``loss`` receives the stacked expert logits, shape (N, K, C) (a multi-expert loss such
    as ``RIDELoss``, whose ``multi_expert`` attribute is True); training accuracy (``cal_acc``) and predictions use
    the mean over all experts.

    Stage 2 (``router=dict(top_k=...)``, RIDE's expert assignment): the head trains only its ``ExpertRouter`` (freeze
    everything else, e.g. with ``DecoupledStageHook(frozen_modules=('backbone', 'neck', 'head.classifiers'),
    bn_mode='eval')``). Decision ``k`` learns the target "the mean of experts ``0..k`` is wrong and adding some later
    experts makes it right" with ``BCEWithLogits(pos_weight)``, averaged over the ``K - 1`` decisions (the official
    ``loss``; ``loss_module`` is not used). At test time each sample starts with expert 0 and adds the next expert
    while the router's probability exceeds 0.5; the prediction is the mean of the experts used, and each predicted
    ``DataSample`` records their number as ``num_experts``. Through the head alone every expert is computed for
    every sample; ``RIDEClassifier`` (``ltmm/cls/classifiers/ride_classifier.py``) computes each expert only for
    the samples routed to it (:meth:`route_computing_used_experts`), with the same predictions.

    TLC (``fusion=dict(type='evidential', eta=..., normalize='batch', sync=True)``, Li et al., "Trustworthy
    Long-Tailed Classification", CVPR 2022): the prediction (test time, training accuracy, and the ``fused_score``
    the head passes to its loss, e.g. ``TLCLoss``, as the diversity target) is TLC's uncertainty-weighted fusion
    of the experts (:func:`ltmm.cls.losses.tlc_loss.evidential_fusion`): each expert's logits weighted by a softmax
    of its Dempster-Shafer weight over the samples of the batch (official), or over the experts of each sample
    (``normalize='experts'``). It lives in the head because it is the model's prediction; the official code
    computes it in the backbone's ``forward``. Every expert runs on every sample (the official test has no early
    exit); each predicted ``DataSample`` also records ``uncertainty``, the ensemble's ``w_K``. With
    ``normalize='batch'`` a prediction depends on the rest of its batch, so configs pin the official evaluation
    batch. Not combined with ``router``.

    SADE (``fusion=dict(type='weighted', weights=...)``, Zhang et al., NeurIPS 2022): the prediction (test time and
    training accuracy) is ``sum_k a_k z_k`` with fixed expert weights ``a`` (normalised to sum to 1), e.g. those
    learned on unlabelled test images by SADE's test-time aggregation (``tools/sade_aggregate.py``, which writes them
    to a JSON file). ``weights=None`` is the plain mean, SADE's prediction without aggregation. The weights are a
    non-persistent buffer, not part of checkpoints: a trained model is tested under any weights file with
    ``--cfg-options model.head.fusion.weights=PATH``. Not combined with ``router``.

    Soft targets and a prediction bias (BalPoE, ``BalPoELoss``, Sanchez Aimar et al., CVPR 2023): a loss whose
    ``soft_labels`` attribute is True receives the mixed targets of mmpretrain's batch augments (mixup ``gt_score``,
    shape (N, C)); the others, and the router, need hard labels. Without a router or evidential fusion, a loss
    holding a ``prediction_bias`` buffer (C,) has it added to the combined logits at prediction time (not to the
    training accuracy): BalPoE's test-time lambda / known test prior (``model.head.loss.test_tau``,
    ``model.head.loss.test_prior``).

    Args:
        num_classes: number of classes ``C``.
        in_channels: feature dimension ``D`` of one expert (48 for RIDE's CIFAR ResNet-32, 1536 for its reduced
            ResNet-50 / ResNeXt-50).
        loss: config of a multi-expert loss, e.g. ``dict(type='RIDELoss', class_stats=...)``.
        num_experts: ``K``; must match the backbone. Default 3 (RIDE's default).
        scale: ``s`` multiplying each expert's cosine logits. Default 30.0 (RIDE's ``NormedLinear`` x 30).
        router: None (stage 1) or the stage-2 router settings: ``top_k`` (``ExpertRouter``), optional
            ``hidden_channels`` (16) and ``pos_weight`` (100.0, official). Default None.
        fusion: None (the mean of the experts, RIDE); TLC's ``dict(type='evidential', eta=0.2,
            normalize='batch', sync=True)`` (the arguments of ``evidential_fusion``; ``eta`` 0.2 on the official
            CIFAR network, 0.5 on its ResNet-50); or SADE's ``dict(type='weighted', weights=None)``, ``weights`` a
            list of ``K`` numbers or a JSON file of them (:func:`load_expert_weights`), None for the mean.
            Default None.
        init_cfg: mmengine init config; None keeps LDAM-DRW's ``NormedLinear`` initialisation of the classifiers.
        **kwargs: ``topk``, ``cal_acc`` of mmpretrain's ``ClsHead``.
    """

    def __init__(self, num_classes: int, in_channels: int, loss: dict, num_experts: int = 3, scale: float = 30.0,
                 router: Optional[dict] = None, fusion: Optional[dict] = None, init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(init_cfg=init_cfg, **fill_loss_num_classes(dict(kwargs, loss=loss), num_classes,
                                                                     type(self).__name__))
        if not getattr(self.loss_module, 'multi_expert', False):
            raise TypeError(f'MultiExpertClsHead needs a multi-expert loss taking (N, K, C) logits (e.g. RIDELoss), '
                            f'got {type(self.loss_module).__name__}')
        if num_classes <= 0 or num_experts <= 0 or in_channels <= 0:
            raise ValueError(f'num_classes ({num_classes}), in_channels ({in_channels}) and num_experts '
                             f'({num_experts}) must be positive')
        if scale <= 0:
            raise ValueError(f'scale must be positive, got {scale}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.num_experts = num_experts
        self.scale = float(scale)
        self.classifiers = nn.ModuleList(nn.Linear(in_channels, num_classes, bias=False) for _ in range(num_experts))
        for fc in self.classifiers:
            init_unit_rows_(fc.weight)
        self.router = None
        if router is not None:
            router = dict(router)
            self.pos_weight = float(router.pop('pos_weight', 100.0))
            top_k = router.get('top_k')
            if num_experts < 2 or not isinstance(top_k, int) or not 1 <= top_k <= num_classes:
                raise ValueError(f'MultiExpertClsHead router needs num_experts >= 2 (got {num_experts}) and an '
                                 f'integer router.top_k in 1..num_classes={num_classes} (got {top_k!r})')
            self.router = ExpertRouter(in_channels, num_experts, **router)
        self.fusion = None
        self.register_buffer('expert_weights', None, persistent=False)
        if fusion is not None:
            if not isinstance(fusion, dict) or fusion.get('type') not in FUSIONS or router is not None:
                raise ValueError(f"MultiExpertClsHead: fusion must be None, dict(type='evidential', ...) or "
                                 f"dict(type='weighted', weights=...), and is not combined with a router; got "
                                 f'fusion={fusion!r}, router={router!r}')
            if fusion['type'] == 'weighted':
                if set(fusion) - {'type', 'weights'}:
                    raise ValueError(f"MultiExpertClsHead: fusion type 'weighted' takes only weights, got "
                                     f'{sorted(fusion)}')
                self.expert_weights = load_expert_weights(fusion.get('weights'), num_experts)
            else:
                self.fusion = self._evidential_fusion(fusion)

    @staticmethod
    def _evidential_fusion(fusion: dict) -> dict:
        """TLC's fusion settings with the defaults filled in, checked."""
        fusion = dict(dict(eta=0.2, normalize='batch', sync=True), **{k: v for k, v in fusion.items() if k != 'type'})
        if set(fusion) != {'eta', 'normalize', 'sync'}:
            raise ValueError(f'MultiExpertClsHead: evidential fusion takes eta, normalize and sync, got '
                             f'{sorted(fusion)}')
        check_fusion(fusion['eta'], fusion['normalize'])
        return fusion

    def expert_features(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """The pooled features of every expert, shape (N, K, D)."""
        x = self.pre_logits(feats)
        if x.dim() != 2 or x.size(1) != self.num_experts * self.in_channels:
            raise ValueError(f'MultiExpertClsHead expects pooled expert features of shape (N, num_experts * '
                             f'in_channels) = (N, {self.num_experts} * {self.in_channels}), got {tuple(x.shape)}; '
                             f'use a multi-expert backbone with the same num_experts')
        return x.view(x.size(0), self.num_experts, self.in_channels)

    def forward_experts(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Logits of every expert, shape (N, K, C)."""
        return self._expert_logits(self.expert_features(feats))

    @property
    def active_classifiers(self) -> nn.ModuleList:
        """The classifiers the expert logits come from (``classifiers``; SHIKE's head switches sets by stage)."""
        return self.classifiers

    def _expert_logits(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([cosine_logits(x[:, k], fc.weight, self.scale)
                            for k, fc in enumerate(self.active_classifiers)], dim=1)

    def route(self, feats: Tuple[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
        """The prediction logits (N, C) and the number of experts each sample uses (N,): the mean over all experts
        (or TLC's evidential fusion) without a router, RIDE's test-time expert assignment with one."""
        x = self.expert_features(feats)
        return self._route(x, self._expert_logits(x))

    def _route(self, x: torch.Tensor, logits: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        if self.fusion is not None:
            return evidential_fusion(logits, **self.fusion)[0], logits.new_full(logits.shape[:1], self.num_experts)
        if self.router is None:
            prediction = self.combine(logits)
            bias = getattr(self.loss_module, 'prediction_bias', None)
            if bias is not None:
                prediction = prediction + bias.to(prediction.dtype)
            return prediction, logits.new_full(logits.shape[:1], self.num_experts)
        total, used = logits[:, 0], logits.new_ones(logits.size(0))
        active = torch.ones_like(used, dtype=torch.bool)
        for k in range(1, self.num_experts):
            active = active & (self.router(x[:, k - 1], total / used[:, None], k - 1).sigmoid() > 0.5)
            total = total + active[:, None] * logits[:, k]
            used = used + active
        return total / used[:, None], used

    def route_computing_used_experts(self, expert_features: Callable[[int, torch.Tensor], torch.Tensor],
                                     num_samples: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """RIDE's test-time expert assignment computing each expert only for the samples routed to it: the same
        prediction logits (N, C) and expert counts (N,) as :meth:`route` with a router, where every expert runs on
        every sample.

        Args:
            expert_features: ``expert_features(k, index)`` returns expert ``k``'s pooled features (len(index), D) for
                the samples ``index`` (a 1-d long tensor) of the batch; it is called for expert 0 on every sample,
                then for expert ``k`` on the samples whose decision ``k - 1`` said "continue", never with an empty
                ``index``.
            num_samples: the batch size ``N``.
        """
        if self.router is None:
            raise ValueError('route_computing_used_experts needs MultiExpertClsHead(router=...)')
        index = torch.arange(num_samples, device=self.classifiers[0].weight.device)
        x = expert_features(0, index)
        total = cosine_logits(x, self.classifiers[0].weight, self.scale)
        used = total.new_ones(num_samples)
        for k in range(1, self.num_experts):
            keep = self.router(x, total[index] / used[index, None], k - 1).sigmoid() > 0.5
            index = index[keep]
            if index.numel() == 0:
                break
            x = expert_features(k, index)
            total[index] += cosine_logits(x, self.classifiers[k].weight, self.scale)
            used[index] += 1
        return total / used[:, None], used

    def routed_predictions(self, logits: torch.Tensor, used: torch.Tensor,
                           data_samples: Optional[List[Optional[DataSample]]] = None) -> List[DataSample]:
        """mmpretrain's predictions from the routed logits (N, C), each carrying ``num_experts``, its entry of
        ``used``, as :meth:`predict`."""
        predictions = self._get_predictions(logits, data_samples)
        for sample, count in zip(predictions, used.tolist()):
            sample.set_field(int(count), 'num_experts', field_type='metainfo')
        return predictions

    def combine(self, logits: torch.Tensor) -> torch.Tensor:
        """The experts' logits (N, K, C) combined without a router or evidential fusion: the mean, or
        ``sum_k a_k z_k`` with the ``expert_weights`` ``a`` (SADE)."""
        if self.expert_weights is None:
            return logits.mean(dim=1)
        return torch.einsum('k,nkc->nc', self.expert_weights.to(logits.dtype), logits)

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Prediction logits, shape (N, C): the mean over all experts (or SADE's weighted sum), TLC's evidential
        fusion, or the mean over the routed experts with a router."""
        return self.route(feats)[0]

    def predict(self, feats: Tuple[torch.Tensor],
                data_samples: Optional[List[Optional[DataSample]]] = None) -> List[DataSample]:
        """mmpretrain's predictions, each also carrying ``num_experts`` (how many experts it used) and, with the
        evidential fusion, ``uncertainty`` (TLC's ``w_K``)."""
        if self.fusion is None:
            return self.routed_predictions(*self.route(feats), data_samples)
        logits, weights = evidential_fusion(self.forward_experts(feats), **self.fusion)
        predictions = self.routed_predictions(logits, weights.new_full(weights.shape[:1], self.num_experts),
                                              data_samples)
        for sample, uncertainty in zip(predictions, weights[:, -1].tolist()):
            sample.set_field(uncertainty, 'uncertainty', field_type='metainfo')
        return predictions

    def router_loss(self, feats: Tuple[torch.Tensor], target: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Stage-2 loss of the router (see the class docstring) and the mean number of experts it assigns."""
        x = self.expert_features(feats)
        logits = self._expert_logits(x)
        cumulative = logits.cumsum(dim=1)
        correct = cumulative.argmax(dim=2) == target[:, None]
        pos_weight = x.new_tensor([self.pos_weight])
        loss = x.new_zeros(())
        for k in range(self.num_experts - 1):
            helps = ~correct[:, k] & correct[:, k + 1:].any(dim=1)
            decision = self.router(x[:, k], cumulative[:, k] / (k + 1), k)
            loss = loss + F.binary_cross_entropy_with_logits(decision, helps.float(), pos_weight=pos_weight)
        with torch.no_grad():
            used = self._route(x, logits)[1].mean()
        return {'loss_router': loss / (self.num_experts - 1), 'num_experts_used': used}

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample], **kwargs) -> Dict[str, torch.Tensor]:
        if 'gt_score' in data_samples[0]:
            if not getattr(self.loss_module, 'soft_labels', False) or self.router is not None:
                raise ValueError(f'MultiExpertClsHead with {type(self.loss_module).__name__}'
                                 f'{" and a router" if self.router is not None else ""} needs hard labels; batch '
                                 'augmentations that produce soft targets (mixup / cutmix gt_score) need a loss '
                                 'that takes them (e.g. BalPoELoss)')
            if self.cal_acc:
                raise ValueError('MultiExpertClsHead: cal_acc is pointless with mixed (soft) targets; set '
                                 'cal_acc=False')
            target = torch.stack([sample.gt_score for sample in data_samples])
        else:
            target = torch.cat([sample.gt_label for sample in data_samples])
        if self.router is not None:
            return self.router_loss(feats, target)
        expert_logits = self.forward_experts(feats)
        if self.fusion is None:
            prediction = self.combine(expert_logits)
        else:
            with torch.no_grad():
                prediction = evidential_fusion(expert_logits, **self.fusion)[0]
            kwargs = dict(kwargs, fused_score=prediction)
        losses = {'loss': self.loss_module(expert_logits, target, avg_factor=expert_logits.size(0), **kwargs)}
        if self.cal_acc:
            acc = Accuracy.calculate(prediction, target, topk=self.topk)
            losses.update({f'accuracy_top-{k}': a for k, a in zip(self.topk, acc)})
        return losses
