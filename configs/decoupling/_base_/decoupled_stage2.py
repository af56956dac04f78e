# Decoupling stage 2's mechanics: once the stage-1 checkpoint (load_from) is loaded, DecoupledStageHook freezes the
# backbone and neck (BatchNorm in train mode, as the official cRT) and re-initialises the classifier. The crt_* configs
# inherit it beside their stage-1 config (the lws_* configs through them, keeping the classifier).
custom_hooks = [dict(type='DecoupledStageHook', frozen_modules=('backbone', 'neck'), bn_mode='train',
                     reinit_head=True)]
# DDP is built before the hook freezes the backbone
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
