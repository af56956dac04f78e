# SADE's CIFAR network (Zhang et al., NeurIPS 2022; Vanint/SADE-AgnosticLT model/ldam_drw_resnets/
# expert_resnet_cifar.py, ResNet32Model with reduce_dimension, use_norm, 3 experts) is RIDE's: the RIDE ResNet-32 of
# ../../ride/_base_/ride_resnet32_cifar.py (shared stem + stage 1, 3 experts of stages 2-3 with 24 / 48 channels, each
# a cosine classifier x 30), trained with SADELoss (tau 2: forward-LT, uniform and backward-LT experts). The prediction
# is the mean of the experts (weights=None) or the expert weights of the test-time aggregation
# (--cfg-options model.head.fusion.weights=WEIGHTS.json, written by tools/sade_aggregate.py).
_base_ = '../../ride/_base_/ride_resnet32_cifar.py'
model = dict(head=dict(fusion=dict(type='weighted', weights=None),
                       loss=dict(_delete_=True, type='SADELoss', tau=2.0)))
