# SHIKE (Jin et al., CVPR 2023; jinyan-06/SHIKE networks.py ResNet_MoE, cifarTrain.py): the DKF ResNet-32 of 3 experts
# (shared stem, stage 1 and stage 2; per expert a stage 3 multiplied element-wise by a shallow branch from stage 1 or 2,
# option-B shortcuts, Kaiming-normal convolutions) and SHIKEClsHead: per expert a cosine classifier x 30 trained with
# DKT (SHIKELoss), then from retrain_epoch a fresh set (rt_classifiers) trained with the balanced softmax summed over
# the experts while everything else is frozen (DecoupledStageHook(start_epoch=...) in the configs); prediction = the
# mean of the expert logits. SGD momentum 0.9 (no nesterov), weight decay 5e-4, at the reference lr 0.05 of
# SHIKEWarmupCosineLR. The configs add the data, class_stats and the two-stage schedule.
_base_ = '../../_base_/models/resnet32_cifar_lt.py'
model = dict(
    backbone=dict(_delete_=True, type='SHIKEResNet32', num_experts=3, depths=(2, 1)),
    head=dict(_delete_=True, type='SHIKEClsHead', in_channels=64, num_experts=3, scale=30.0,
              loss=dict(type='SHIKELoss', num_experts=3), retrain_loss=dict(type='BalancedSoftmaxLoss')))
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
# the classifiers of the stage not being trained get no gradient (stage 1: rt_classifiers; stage 2: all but them)
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
