# CC-SAM stage 2's mechanics (zzpustc/CC-SAM train_cifar.py, epochs >= stage): once the stage-1 checkpoint
# (load_from) is loaded, DecoupledStageHook freezes the backbone and neck and keeps their BatchNorm layers in train
# mode (official freeze_backbone: requires_grad=False, the model still in train()); the stage-1 classifier is kept
# (reinit_head=False; the official run reloads the whole stage-1 model) and trained with the feature-adversarial loss
# of CCSAMClsHead(stage=2), whose ramp a_e = min((e + 1) / adv_epochs, max_adv_ratio) reads the epoch that
# LossEpochHook gives it. The ccsam_* configs inherit this beside their stage-1 config.
custom_hooks = [dict(type='DecoupledStageHook', frozen_modules=('backbone', 'neck'), bn_mode='train',
                     reinit_head=False),
                dict(type='LossEpochHook')]
# DDP is built before the hook freezes the backbone
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
